import { once } from "node:events";
import { type IncomingMessage, request } from "node:http";
import { describe, expect, it, vi } from "vitest";
import { TEST_KEY } from "../support/helpers.js";
import { run, start } from "../support/server-process.js";
import { DEFAULT_ANSWER, startUpstream, useUpstream } from "../support/upstream.js";

const upstream = useUpstream();

/** A raw HTTP/1.1 request with node:http, so that headers (Host included) go out exactly as given. */
async function send(
  port: number,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<{ status: number; headers: IncomingMessage["headers"]; rawHeaders: string[]; body: string }> {
  const req = request({ host: "127.0.0.1", port, path, method: init.method ?? "GET", headers: init.headers });
  req.end(init.body);
  const [res] = (await once(req, "response")) as [IncomingMessage];
  let body = "";
  for await (const chunk of res) body += chunk;
  return { status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body };
}

describe("the gateway on Node, as a real process in front of a real upstream", () => {
  it("serves on its own listener: every path is Kratos's, the hook routes are not there", async () => {
    const server = await start({ GATEWAY_KRATOS_URL: upstream.url });
    expect(server.gatewayPort).not.toBe(server.port);
    for (const path of ["/health", "/hooks/registration-after", "/health/alive", "/self-service/login/browser"]) {
      const res = await send(server.gatewayPort, path, { headers: { authorization: `Bearer ${TEST_KEY}` } });
      expect(res.body).toBe(DEFAULT_ANSWER === "hang" ? "" : DEFAULT_ANSWER.body);
    }
    expect(upstream.received.map((r) => r.url)).toEqual([
      "/health",
      "/hooks/registration-after",
      "/health/alive",
      "/self-service/login/browser",
    ]);
    // The hooks listener is unchanged.
    expect((await send(server.port, "/health")).body).toBe('{"status":"ok"}');
  });

  it("rewrites a login submission and forwards it with the real connection's address", async () => {
    const server = await start({
      GATEWAY_KRATOS_URL: upstream.url,
      HOOKS_CONFIG: JSON.stringify({ normalizePhone: { defaultRegion: "DE" } }),
    });
    const body = "identifier=0176+1234+5678&password=p&csrf_token=t";
    const res = await send(server.gatewayPort, "/self-service/login?flow=f1", {
      method: "POST",
      headers: {
        host: "auth.example.test",
        "content-type": "application/x-www-form-urlencoded",
        "x-forwarded-for": "198.51.100.1",
        "true-client-ip": "198.51.100.1",
        cookie: "csrf_token_x=c",
      },
      body,
    });
    expect(res.status).toBe(200);
    // Both cookies, as two header lines.
    expect(res.rawHeaders.filter((_, i, all) => i % 2 === 0 && all[i]?.toLowerCase() === "set-cookie")).toHaveLength(2);
    expect(res.headers["set-cookie"]).toEqual(DEFAULT_ANSWER === "hang" ? [] : DEFAULT_ANSWER.headers?.["set-cookie"]);
    const [sent] = upstream.received;
    expect(sent?.body.toString()).toBe("identifier=%2B4917612345678&password=p&csrf_token=t");
    expect(sent?.headers).toMatchObject({
      "content-length": String(sent?.body.byteLength),
      cookie: "csrf_token_x=c",
      "x-forwarded-for": "127.0.0.1",
      "true-client-ip": "127.0.0.1",
      "x-forwarded-host": "auth.example.test",
      "x-forwarded-proto": "http",
    });
    // The log line may reach the pipe a moment after the answer.
    await vi.waitFor(() =>
      expect(server.lines.find((l) => l.msg === "gateway request")).toMatchObject({
        route: "/self-service/login",
        status: 200,
        rewritten: ["identifier"],
      }),
    );
  });

  it("streams a body it does not read (a type Kratos refuses, chunked) byte for byte", async () => {
    const server = await start({
      GATEWAY_KRATOS_URL: upstream.url,
      HOOKS_CONFIG: JSON.stringify({ normalizePhone: { defaultRegion: "DE" } }),
    });
    const body = Buffer.concat([
      Buffer.from("--b\r\nContent-Disposition: form-data; name=identifier\r\n\r\n0176 1234 5678\r\n--b\r\n"),
      Buffer.from([0, 1, 2, 255, 254]),
      Buffer.from("\r\n--b--\r\n"),
    ]);
    const req = request({
      host: "127.0.0.1",
      port: server.gatewayPort,
      path: "/self-service/login?flow=f",
      method: "POST",
      headers: { "content-type": "application/octet-stream", "transfer-encoding": "chunked" },
    });
    req.write(body.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 50));
    req.end(body.subarray(10));
    const [res] = (await once(req, "response")) as [IncomingMessage];
    res.resume();
    expect(res.statusCode).toBe(200);
    expect(upstream.received[0]?.body.equals(body)).toBe(true);
    expect(upstream.received[0]?.headers["transfer-encoding"]).toBe("chunked");
  });

  it("streams a large answer through", async () => {
    const large = "x".repeat(300_000);
    upstream.answer = () => ({ status: 200, headers: { "content-type": "text/plain" }, body: large });
    const server = await start({ GATEWAY_KRATOS_URL: upstream.url });
    const res = await send(server.gatewayPort, "/.well-known/ory/webauthn.js");
    expect(res.body).toBe(large);
  });

  it("Kratos unreachable: 502; too slow: 504; both in Kratos's shape, and the process stays up", async () => {
    const closed = await startUpstream();
    await closed.close();
    const down = await start({ GATEWAY_KRATOS_URL: closed.url });
    const refused = await send(down.gatewayPort, "/sessions/whoami");
    expect(refused.status).toBe(502);
    expect(JSON.parse(refused.body)).toEqual({ error: { code: 502, status: "Bad Gateway", message: expect.any(String) } });
    await vi.waitFor(() =>
      expect(down.lines.find((l) => l.msg === "gateway request")).toMatchObject({
        status: 502,
        error: "unreachable",
        detail: "ECONNREFUSED",
      }),
    );

    upstream.answer = () => "hang";
    const slow = await start({ GATEWAY_KRATOS_URL: upstream.url, HOOKS_CONFIG: JSON.stringify({ gateway: { upstreamTimeoutMs: 1000 } }) });
    const timedOut = await send(slow.gatewayPort, "/sessions/whoami");
    expect(timedOut.status).toBe(504);
    expect(JSON.parse(timedOut.body).error).toMatchObject({ code: 504, status: "Gateway Timeout" });
    upstream.answer = () => DEFAULT_ANSWER;
    expect((await send(slow.gatewayPort, "/sessions/whoami")).status).toBe(200);
    expect(slow.child.exitCode).toBeNull();
  });

  it("on SIGTERM both listeners stop accepting, a request in flight on the gateway finishes, and the process exits 0 once", async () => {
    upstream.answer = () => ({ ...(DEFAULT_ANSWER as Exclude<typeof DEFAULT_ANSWER, "hang">), delayMs: 600 });
    const server = await start({ GATEWAY_KRATOS_URL: upstream.url });
    const inFlight = send(server.gatewayPort, "/sessions/whoami");
    while (upstream.received.length === 0) await new Promise((r) => setTimeout(r, 10));
    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    await expect(fetch(`http://127.0.0.1:${server.port}/health`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${server.gatewayPort}/health/alive`)).rejects.toThrow();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await server.exit).toBe(0);
    expect(server.lines.filter((l) => l.msg === "stopped")).toHaveLength(1);
  });

  it("refuses to start when the upstream is its own address, or shares the hooks' port (exit 78)", async () => {
    for (const [env, message] of [
      [{ GATEWAY_KRATOS_URL: "http://localhost:4455", GATEWAY_PORT: "4455" }, "the gateway would forward to itself"],
      [{ GATEWAY_KRATOS_URL: "http://127.0.0.1:4455", HOST: "0.0.0.0" }, "the gateway would forward to itself"],
      [{ GATEWAY_KRATOS_URL: "kratos:4433" }, "GATEWAY_KRATOS_URL: expected Kratos's own public address as an http(s) URL"],
      [
        { GATEWAY_KRATOS_URL: "http://127.0.0.1:4433", GATEWAY_PORT: "8787", PORT: "8787" },
        "GATEWAY_PORT: expected a port other than PORT",
      ],
    ] as const) {
      const proc = run({ HOST: "127.0.0.1", PORT: "0", HOOKS_API_KEYS: TEST_KEY, ...env });
      expect(await proc.exit).toBe(78);
      expect(proc.stderr()).toContain(message);
    }
  });
});
