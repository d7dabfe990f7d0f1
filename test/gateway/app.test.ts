import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createPinoLogger } from "../../src/adapters/node-logger.js";
import { parseConfig } from "../../src/config/parse.js";
import { createGateway } from "../../src/gateway/app.js";
import { createFetchRuntime, getWorkersConnInfo } from "../../src/gateway/fetch-runtime.js";
import { REFUSALS } from "../../src/gateway/refusals.js";
import { DEFAULT_ANSWER, startUpstream, useUpstream } from "../support/upstream.js";

const upstream = useUpstream();

/** The gateway on the fetch runtime (as on Workers), in front of the test upstream, logging into memory. */
function gateway(config: unknown = {}, target = upstream.url) {
  let output = "";
  const sink = new Writable({
    write(chunk, _encoding, done) {
      output += chunk.toString();
      done();
    },
  });
  const app = createGateway({
    config: parseConfig(config, "test"),
    upstream: new URL(target),
    logger: createPinoLogger("info", sink),
    runtime: createFetchRuntime(),
    // Cloudflare's reading of the client, as on Workers: CF-Connecting-IP names it.
    connInfo: getWorkersConnInfo,
  });
  const lines = () =>
    output
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { app, lines, raw: () => output };
}

/** A request as a client on Cloudflare sends it (Cloudflare sets CF-Connecting-IP), with an optional `request.cf.country`. */
function clientRequest(path: string, init: RequestInit = {}, country?: string): Request {
  const headers = new Headers(init.headers);
  headers.set("cf-connecting-ip", headers.get("cf-connecting-ip") ?? "203.0.113.7");
  const request = new Request(`https://auth.example.test${path}`, { ...init, headers });
  if (country !== undefined) Object.defineProperty(request, "cf", { value: { country } });
  return request;
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", accept: "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

describe("gateway: rewriting a login submission", () => {
  it("sends Kratos the E.164 identifier, every other byte and header as sent, and returns Kratos's answer", async () => {
    const { app, lines } = gateway({ normalizePhone: { defaultRegion: "DE" } });
    const body = '{"method":"password","identifier":"0176 12345678","password":"hunter2 hunter2","csrf_token":"tok"}';
    const res = await app.request(
      clientRequest(
        "/self-service/login?flow=abc",
        json(body, { cookie: "csrf_token_abc=c1", "x-csrf-token": "tok", "x-session-token": "st" }),
      ),
    );
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()).toEqual(DEFAULT_ANSWER === "hang" ? [] : DEFAULT_ANSWER.headers?.["set-cookie"]);
    expect(await res.text()).toBe(DEFAULT_ANSWER === "hang" ? "" : DEFAULT_ANSWER.body);

    const [sent] = upstream.received;
    expect(sent?.method).toBe("POST");
    expect(sent?.url).toBe("/self-service/login?flow=abc");
    expect(sent?.body.toString()).toBe(body.replace("0176 12345678", "+4917612345678"));
    expect(sent?.headers).toMatchObject({
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body) + 1),
      cookie: "csrf_token_abc=c1",
      "x-csrf-token": "tok",
      "x-session-token": "st",
      "x-forwarded-for": "203.0.113.7",
      "true-client-ip": "203.0.113.7",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "auth.example.test",
    });
    expect(lines()).toEqual([
      expect.objectContaining({
        msg: "gateway request",
        method: "POST",
        route: "/self-service/login",
        status: 200,
        rewritten: ["identifier"],
      }),
    ]);
  });

  it("forwards a body with nothing to change byte for byte, without re-encoding", async () => {
    const { app } = gateway({ normalizePhone: { defaultRegion: "DE" } });
    const body = '{ "identifier" : "+4917612345678",\n "password":"p\\u00e4ss", "n": 1.50e10 }';
    await app.request(clientRequest("/self-service/login?flow=abc", json(body)));
    expect(upstream.received[0]?.body.toString()).toBe(body);
  });

  it("a browser form post without transient_payload: the configured header gives the region", async () => {
    const { app } = gateway({ normalizePhone: { regionHeader: "X-Phone-Region" } });
    const form = "csrf_token=t%2Bk&identifier=0176+1234+5678&password=p&method=password";
    await app.request(
      clientRequest("/self-service/login?flow=abc", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-phone-region": "de" },
        body: form,
      }),
    );
    expect(upstream.received[0]?.body.toString()).toBe("csrf_token=t%2Bk&identifier=%2B4917612345678&password=p&method=password");
    expect(upstream.received[0]?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
  });

  it("the client's country is a region source only when opted in, after the header and before defaultRegion", async () => {
    const body = { identifier: "01 23 45 67 89", method: "password" };
    const off = gateway({ normalizePhone: { defaultRegion: "DE" } });
    await off.app.request(clientRequest("/self-service/login?flow=a", json(body), "FR"));
    expect(JSON.parse(upstream.received.at(-1)?.body.toString() ?? "")).toMatchObject({ identifier: "01 23 45 67 89" });

    const on = gateway({
      normalizePhone: { defaultRegion: "DE", regionHeader: "X-Phone-Region" },
      gateway: { regionFromClientCountry: true },
    });
    await on.app.request(clientRequest("/self-service/login?flow=a", json(body), "FR"));
    expect(JSON.parse(upstream.received.at(-1)?.body.toString() ?? "")).toMatchObject({ identifier: "+33123456789" });
    // The header comes first: a German number, read in DE though the client is in France.
    await on.app.request(
      clientRequest("/self-service/login?flow=a", json({ identifier: "0176 1234 5678" }, { "x-phone-region": "DE" }), "FR"),
    );
    expect(JSON.parse(upstream.received.at(-1)?.body.toString() ?? "")).toMatchObject({ identifier: "+4917612345678" });
    // Cloudflare's XX (unknown) falls through to defaultRegion.
    await on.app.request(clientRequest("/self-service/login?flow=a", json({ identifier: "0176 1234 5678" }), "XX"));
    expect(JSON.parse(upstream.received.at(-1)?.body.toString() ?? "")).toMatchObject({ identifier: "+4917612345678" });
  });

  it("normalizePhone.enabled: false turns the rewriting off", async () => {
    const { app, lines } = gateway({ normalizePhone: { enabled: false, defaultRegion: "DE" } });
    const body = '{"identifier":"0176 1234 5678"}';
    await app.request(clientRequest("/self-service/login?flow=abc", json(body)));
    expect(upstream.received[0]?.body.toString()).toBe(body);
    expect(lines()[0]).toMatchObject({ rewritten: [] });
  });

  it("registration and settings: the configured phone fields", async () => {
    const { app } = gateway({ normalizePhone: { fields: ["phone", "contact.mobile"] } });
    const body = {
      method: "password",
      traits: { phone: "0176 1234 5678", contact: { mobile: "0176 1234 5679" }, email: "0176@example.org" },
      transient_payload: { phone_region: "DE" },
    };
    await app.request(clientRequest("/self-service/registration?flow=a", json(body)));
    await app.request(clientRequest("/self-service/settings?flow=a", json({ ...body, method: "profile" })));
    for (const sent of upstream.received) {
      expect(JSON.parse(sent.body.toString()).traits).toEqual({
        phone: "+4917612345678",
        contact: { mobile: "+4917612345679" },
        email: "0176@example.org",
      });
    }
  });
});

describe("gateway: everything else passes through", () => {
  it.each([
    ["GET", "/sessions/whoami", undefined],
    ["GET", "/self-service/login/browser?return_to=https%3A%2F%2Fapp.example.test%2F&refresh=true", undefined],
    ["DELETE", "/sessions/5f0b0000-0000-4000-8000-000000000000", undefined],
    ["POST", "/self-service/login/flows?id=x", '{"identifier":"0176 1234 5678"}'],
    ["PUT", "/self-service/login?flow=x", '{"identifier":"0176 1234 5678"}'],
    ["DELETE", "/self-service/logout/api", '{"session_token":"st"}'],
    [
      "POST",
      "/self-service/registration/flows?id=x",
      "--b\r\nContent-Disposition: form-data; name=identifier\r\n\r\n0176 1234 5678\r\n--b--\r\n",
    ],
  ])("%s %s: method, path, query and body unchanged", async (method, path, body) => {
    const { app } = gateway({ normalizePhone: { defaultRegion: "DE" } });
    const contentType = body?.startsWith("--") ? "multipart/form-data; boundary=b" : "application/json";
    const res = await app.request(
      clientRequest(path, { method, ...(body !== undefined && { body, headers: { "content-type": contentType } }) }),
    );
    expect(res.status).toBe(200);
    const [sent] = upstream.received;
    expect({ method: sent?.method, url: sent?.url, body: sent?.body.toString() }).toEqual({ method, url: path, body: body ?? "" });
  });

  it("does not follow redirects: Kratos's 303, Location and cookies reach the client", async () => {
    upstream.answer = () => ({
      status: 303,
      headers: { location: "https://app.example.test/login?flow=abc", "set-cookie": ["a=1; Path=/", "b=2; Path=/"] },
    });
    const { app } = gateway();
    const res = await app.request(clientRequest("/self-service/login/browser"));
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("https://app.example.test/login?flow=abc");
    expect(res.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(upstream.received).toHaveLength(1);
  });

  it("strips hop-by-hop headers both ways, and those named in Connection", async () => {
    upstream.answer = () => ({
      status: 200,
      headers: { "keep-alive": "timeout=5", "x-private-hop": "1", connection: "x-private-hop" },
      body: "ok",
    });
    const { app } = gateway();
    const res = await app.request(
      clientRequest("/sessions/whoami", {
        headers: { connection: "x-client-hop", "x-client-hop": "1", "proxy-authorization": "Basic eA==", te: "trailers" },
      }),
    );
    expect(res.headers.get("keep-alive")).toBeNull();
    expect(res.headers.get("x-private-hop")).toBeNull();
    const sent = upstream.received[0]?.headers ?? {};
    for (const name of ["x-client-hop", "proxy-authorization", "te"]) expect(sent[name]).toBeUndefined();
  });

  it("replaces forwarding headers a client made up, unless an upstream proxy is trusted", async () => {
    const spoofed = {
      "x-forwarded-for": "198.51.100.1",
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "http",
      "true-client-ip": "198.51.100.1",
      "x-real-ip": "198.51.100.1",
      forwarded: "for=198.51.100.1",
    };
    await gateway().app.request(clientRequest("/sessions/whoami", { headers: { ...spoofed, "cf-connecting-ip": "203.0.113.7" } }));
    expect(upstream.received[0]?.headers).toMatchObject({
      "x-forwarded-for": "203.0.113.7",
      "true-client-ip": "203.0.113.7",
      "x-forwarded-host": "auth.example.test",
      "x-forwarded-proto": "https",
    });
    expect(upstream.received[0]?.headers["x-real-ip"]).toBeUndefined();
    expect(upstream.received[0]?.headers.forwarded).toBeUndefined();

    await gateway({ gateway: { trustForwardedHeaders: true } }).app.request(
      clientRequest("/sessions/whoami", { headers: { ...spoofed, "cf-connecting-ip": "203.0.113.7" } }),
    );
    expect(upstream.received[1]?.headers).toMatchObject({
      "x-forwarded-for": "198.51.100.1, 203.0.113.7",
      "true-client-ip": "198.51.100.1",
      "x-forwarded-host": "evil.example",
      "x-forwarded-proto": "http",
      "x-real-ip": "198.51.100.1",
    });
  });

  it("never adds a Cookie or an Origin (native flows refuse them)", async () => {
    await gateway().app.request(clientRequest("/self-service/login/api"));
    expect(upstream.received[0]?.headers.cookie).toBeUndefined();
    expect(upstream.received[0]?.headers.origin).toBeUndefined();
  });

  it("keeps a base path of the upstream URL", async () => {
    await gateway({}, `${upstream.url}/kratos/`).app.request(clientRequest("/sessions/whoami?x=1"));
    expect(upstream.received[0]?.url).toBe("/kratos/sessions/whoami?x=1");
  });
});

describe("gateway: its own answers are in Kratos's error shape", () => {
  it("Kratos unreachable: 502", async () => {
    const closed = await startUpstream();
    await closed.close();
    const { app, lines } = gateway({}, closed.url);
    const res = await app.request(clientRequest("/sessions/whoami"));
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({
      error: { code: 502, status: "Bad Gateway", message: expect.stringContaining("Kratos could not be reached") },
    });
    expect(lines()[0]).toMatchObject({ status: 502, error: "unreachable" });
  });

  it("Kratos too slow: 504 after gateway.upstreamTimeoutMs", async () => {
    upstream.answer = () => "hang";
    const { app } = gateway({ gateway: { upstreamTimeoutMs: 1000 } });
    const started = Date.now();
    const res = await app.request(clientRequest("/sessions/whoami"));
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(await res.json()).toEqual({ error: { code: 504, status: "Gateway Timeout", message: "Kratos did not answer within 1000 ms." } });
  });

  it("a rewritable body over 1 MiB: 413, not forwarded; other bodies stream through", async () => {
    const { app } = gateway();
    const big = JSON.stringify({ identifier: "x", pad: "a".repeat(1024 * 1024) });
    const res = await app.request(clientRequest("/self-service/login?flow=a", json(big)));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 413, status: "Payload Too Large" });
    expect(upstream.received).toHaveLength(0);
    // A type Kratos itself refuses is not read: it streams through, and Kratos says no.
    const unread = await app.request(
      clientRequest("/self-service/login?flow=a", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: big,
      }),
    );
    expect(unread.status).toBe(200);
    expect(upstream.received[0]?.body.byteLength).toBe(Buffer.byteLength(big));
  });

  it("a request that has already passed through this gateway: 508, not forwarded", async () => {
    const res = await gateway().app.request(clientRequest("/sessions/whoami", { headers: { "kratos-hooks-gateway": "1" } }));
    expect(res.status).toBe(508);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: 508, status: "Loop Detected" });
    expect(upstream.received).toHaveLength(0);
  });

  it("marks what it forwards, so a gateway forwarding to itself stops at the second pass", async () => {
    await gateway().app.request(clientRequest("/sessions/whoami"));
    expect(upstream.received[0]?.headers["kratos-hooks-gateway"]).toBe("1");
  });

  it.each([
    ["malformed JSON", json('{"identifier":"0176 1234 5678",'), "json_syntax"],
    ["JSON with trailing data (Kratos reads the first object)", json('{"identifier":"0176 1234 5678"} x'), "json_trailing_data"],
    [
      "a malformed form escape",
      { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "identifier=%zz" },
      "form_bad_escape",
    ],
    [
      "multipart (Kratos reads it only where CSRF then fails)",
      { method: "POST", headers: { "content-type": "multipart/form-data; boundary=b" }, body: "--b--" },
      "multipart",
    ],
    [
      "a Content-Type list (v1.3.1 reads the JSON in it)",
      { method: "POST", headers: { "content-type": "text/plain, application/json" }, body: "{}" },
      "content_type_list",
    ],
  ] as const)("%s: 400 in Kratos's shape with the reason, Connection: close, not forwarded", async (_, init, refusal) => {
    const { app, lines } = gateway({ normalizePhone: { defaultRegion: "DE" } });
    const res = await app.request(clientRequest("/self-service/login?flow=a", init as RequestInit));
    expect(res.status).toBe(400);
    expect(res.headers.get("connection")).toBe("close");
    expect(await res.json()).toEqual({
      error: {
        code: 400,
        status: "Bad Request",
        reason: REFUSALS[refusal],
        message: "The request was malformed or contained invalid parameters",
      },
    });
    expect(upstream.received).toHaveLength(0);
    expect(lines()[0]).toMatchObject({ route: "/self-service/login", status: 400, refusal });
  });

  it.each([
    ["//self-service/login?flow=a", "path_empty_segment"],
    ["/self-service//login?flow=a", "path_empty_segment"],
    ["/self-service%2Flogin?flow=a", "path_encoded_separator"],
    ["/self-service%5clogin?flow=a", "path_encoded_separator"],
    ["/self-service/login/?flow=a", "path_trailing_slash"],
    ["/sessions/whoami/", "path_trailing_slash"],
  ] as const)("the path %s: 400 (%s) before any rule, not forwarded", async (path, refusal) => {
    const { app } = gateway({ normalizePhone: { defaultRegion: "DE" } });
    const res = await app.request(new Request(`https://auth.example.test${path}`, json({ identifier: "0176 1234 5678" })));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { reason: string } }).error.reason).toBe(REFUSALS[refusal]);
    expect(upstream.received).toHaveLength(0);
  });

  it("a dot segment is resolved by the URL parser before the gateway matches, and the resolved path is what Kratos gets", async () => {
    const { app } = gateway({ normalizePhone: { defaultRegion: "DE" } });
    await app.request(new Request("https://auth.example.test/self-service/x/../login?flow=a", json({ identifier: "0176 1234 5678" })));
    expect(upstream.received[0]?.url).toBe("/self-service/login?flow=a");
    expect(JSON.parse(upstream.received[0]?.body.toString() ?? "")).toEqual({ identifier: "+4917612345678" });
  });

  it("a percent-encoded letter is the route too (every Kratos decodes it): rewritten, forwarded as spelled", async () => {
    const { app } = gateway({ normalizePhone: { defaultRegion: "DE" } });
    await app.request(new Request("https://auth.example.test/self-service/%6cogin?flow=a", json({ identifier: "0176 1234 5678" })));
    expect(upstream.received[0]?.url).toBe("/self-service/%6cogin?flow=a");
    expect(JSON.parse(upstream.received[0]?.body.toString() ?? "")).toEqual({ identifier: "+4917612345678" });
  });
});

describe("gateway: one log line per request, without values", () => {
  it("method, route template (no query, no ids), status, duration, the fields rewritten by name", async () => {
    const { app, lines, raw } = gateway({ normalizePhone: { defaultRegion: "DE" } });
    await app.request(
      clientRequest(
        "/self-service/login?flow=8a1e&return_to=https%3A%2F%2Fapp.example.test%2F%3Femail%3Djane%40example.org",
        json(
          { identifier: "0176 1234 5678", password: "correct horse battery", csrf_token: "csrf-secret-value" },
          { cookie: "ory_kratos_session=sess-secret" },
        ),
      ),
    );
    await app.request(clientRequest("/schemas/cGhvbmU", { headers: { authorization: "Bearer token-secret" } }));
    await app.request(
      clientRequest("/sessions/8a1e0000-0000-4000-8000-000000000000", { method: "DELETE", headers: { "x-session-token": "st-secret" } }),
    );
    await app.request(clientRequest("/jane@example.org/0176-1234-5678"));
    expect(lines().map(({ method, route, status, rewritten }) => ({ method, route, status, rewritten }))).toEqual([
      { method: "POST", route: "/self-service/login", status: 200, rewritten: ["identifier"] },
      { method: "GET", route: "/schemas/:id", status: 200, rewritten: [] },
      { method: "DELETE", route: "/sessions/:id", status: 200, rewritten: [] },
      { method: "GET", route: "other", status: 200, rewritten: [] },
    ]);
    for (const line of lines()) expect(line.durationMs).toEqual(expect.any(Number));
    for (const secret of [
      "0176",
      "4917612345678",
      "jane",
      "correct horse",
      "csrf-secret",
      "sess-secret",
      "token-secret",
      "st-secret",
      "8a1e",
      "cGhvbmU",
    ]) {
      expect(raw()).not.toContain(secret);
    }
  });

  it("carries the client's trace (W3C traceparent) as traceId and spanId, and forwards the header unchanged", async () => {
    const { app, lines } = gateway();
    const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    await app.request(clientRequest("/sessions/whoami", { headers: { traceparent } }));
    await app.request(clientRequest("/sessions/whoami", { headers: { traceparent: "00-not-a-trace-01" } }));
    expect(lines()[0]).toMatchObject({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" });
    expect(lines()[1]).not.toHaveProperty("traceId");
    expect(upstream.received[0]?.headers.traceparent).toBe(traceparent);
  });
});
