import { once } from "node:events";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { addressKey } from "../../src/adapters/node-connections.js";
import { TEST_KEY } from "../support/helpers.js";
import { headerValues, type ParsedResponse, parseResponses } from "../support/raw-http.js";
import { start } from "../support/server-process.js";
import { useUpstream } from "../support/upstream.js";

const upstream = useUpstream();

/** A raw connection from `localAddress` (any of 127.0.0.0/8 on Linux), with what it has read. */
async function open(port: number, localAddress = "127.0.0.1") {
  const socket = connect({ port, host: "127.0.0.1", localAddress });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => undefined);
  socket.on("close", () => {
    closed = true;
  });
  await once(socket, "connect");
  const answers = (methods: string[]) => parseResponses(Buffer.concat(chunks), methods, closed).responses;
  return {
    socket,
    get closed() {
      return closed;
    },
    answers,
    /** Sends a GET and waits for its answer (the `n`th on this connection). */
    async get(path: string, n = 1): Promise<ParsedResponse> {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: auth.example.test\r\n\r\n`);
      return waitFor(() => answers(Array(n).fill("GET"))[n - 1]);
    },
  };
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function metric(port: number, line: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const found = text.split("\n").find((l) => l.startsWith(line));
  return Number(found?.slice(line.length).trim() ?? 0);
}

const closedSoon = (connection: { closed: boolean }) => waitFor(() => (connection.closed ? true : undefined));

describe("connections are a bounded resource, per client address and overall", () => {
  it("per address: a new connection over the cap closes that address's longest-idle keep-alive connection, and is served", async () => {
    const server = await start({ GATEWAY_KRATOS_URL: upstream.url, MAX_CONNECTIONS_PER_ADDRESS: "3", METRICS_PORT: "0" });
    const idle = [];
    for (let i = 0; i < 3; i++) {
      const connection = await open(server.gatewayPort);
      expect((await connection.get("/health/alive")).status).toBe(200);
      idle.push(connection);
    }
    const fourth = await open(server.gatewayPort);
    expect((await fourth.get("/health/alive")).status).toBe(200);
    await closedSoon(idle[0] as { closed: boolean });
    expect(idle.map((c) => c.closed)).toEqual([true, false, false]);
    expect(await metric(server.metricsPort, 'kratos_hooks_connections_shed_total{listener="gateway",bound="per_address"}')).toBe(1);
  });

  it("per address: when every connection has a request in flight, the new one is answered 503 in Kratos's shape and closed; another address is served", async () => {
    upstream.answer = () => "hang";
    const server = await start({ GATEWAY_KRATOS_URL: upstream.url, MAX_CONNECTIONS_PER_ADDRESS: "2", METRICS_PORT: "0" });
    const busy = [await open(server.gatewayPort), await open(server.gatewayPort)];
    for (const c of busy) c.socket.write("GET /sessions/whoami HTTP/1.1\r\nHost: auth.example.test\r\n\r\n");
    await waitFor(() => (upstream.received.length === 2 ? true : undefined));
    const third = await open(server.gatewayPort);
    const refused = await third.get("/sessions/whoami");
    expect(refused.status).toBe(503);
    expect(Object.fromEntries(refused.headers.map(([n, v]) => [n.toLowerCase(), v]))).toMatchObject({
      connection: "close",
      "retry-after": "1",
    });
    expect(JSON.parse(refused.body.toString())).toEqual({
      error: { code: 503, status: "Service Unavailable", message: "Too many open connections; try again shortly." },
    });
    await closedSoon(third);
    expect(upstream.received).toHaveLength(2);
    upstream.answer = () => ({ status: 200, body: "ok" });
    const other = await open(server.gatewayPort, "127.0.0.2");
    expect((await other.get("/health/alive")).status).toBe(200);
    expect(await metric(server.metricsPort, 'kratos_hooks_connections_refused_total{listener="gateway",bound="per_address"}')).toBe(1);
  });

  it("overall: idle keep-alive connections go first, then silent ones; a connection of a new address is served", async () => {
    const server = await start({
      GATEWAY_KRATOS_URL: upstream.url,
      MAX_CONNECTIONS: "4",
      MAX_CONNECTIONS_PER_ADDRESS: "4",
      METRICS_PORT: "0",
    });
    const silent = [await open(server.gatewayPort, "127.0.0.3"), await open(server.gatewayPort, "127.0.0.3")];
    const idle = await open(server.gatewayPort, "127.0.0.4");
    expect((await idle.get("/health/alive")).status).toBe(200);
    const silent3 = await open(server.gatewayPort, "127.0.0.3");
    // Full: the newcomer takes the idle keep-alive connection's place, though silent ones are older.
    const first = await open(server.gatewayPort, "127.0.0.5");
    expect((await first.get("/health/alive")).status).toBe(200);
    await closedSoon(idle);
    expect(silent.map((c) => c.closed)).toEqual([false, false]);
    // Full again, nothing idle but `first` (just served): it goes, then the oldest silent one.
    const second = await open(server.gatewayPort, "127.0.0.6");
    expect((await second.get("/health/alive")).status).toBe(200);
    await closedSoon(first);
    const third = await open(server.gatewayPort, "127.0.0.7");
    expect((await third.get("/health/alive")).status).toBe(200);
    // `second` was idle by then: it went before the silent ones.
    await closedSoon(second);
    const fourth = await open(server.gatewayPort, "127.0.0.8");
    expect((await fourth.get("/health/alive")).status).toBe(200);
    await closedSoon(third);
    expect([...silent, silent3].map((c) => c.closed)).toEqual([false, false, false]);
    expect(await metric(server.metricsPort, 'kratos_hooks_connections_shed_total{listener="gateway",bound="overall"}')).toBe(4);
  });

  it("overall: silent connections are closed to make room when none is idle", async () => {
    const server = await start({ GATEWAY_KRATOS_URL: upstream.url, MAX_CONNECTIONS: "2", METRICS_PORT: "0" });
    const silent = [await open(server.gatewayPort, "127.0.0.9"), await open(server.gatewayPort, "127.0.0.9")];
    const newcomer = await open(server.gatewayPort, "127.0.0.10");
    expect((await newcomer.get("/health/alive")).status).toBe(200);
    await closedSoon(silent[0] as { closed: boolean });
    expect(silent[1]?.closed).toBe(false);
  });

  it("the hooks' listener is bounded the same way, and answers in its own shape", async () => {
    const server = await start({ MAX_CONNECTIONS_PER_ADDRESS: "1" });
    const first = await open(server.port);
    expect((await first.get("/health")).status).toBe(200);
    const second = await open(server.port);
    expect((await second.get("/health")).status).toBe(200);
    await closedSoon(first);
  });

  it("the hooks' listener answers a refused connection 503 in the hooks' own shape", async () => {
    const server = await start({ MAX_CONNECTIONS_PER_ADDRESS: "1", METRICS_PORT: "0" });
    // A request in flight: its headers are in, its body is not.
    const busy = await open(server.port);
    busy.socket.write(
      `POST /hooks/login-after HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${TEST_KEY}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
    );
    await new Promise((r) => setTimeout(r, 200));
    const refused = await (await open(server.port)).get("/health");
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body.toString())).toEqual({
      error: { code: "unavailable", message: "Too many open connections; try again shortly.", path: null },
    });
    expect(await metric(server.metricsPort, 'kratos_hooks_connections_refused_total{listener="hooks",bound="per_address"}')).toBe(1);
  });

  it("a quarter above the overall bound, Node closes new connections unanswered, counted as the hard bound", async () => {
    upstream.answer = () => "hang";
    // Bound 4, hard bound 5: four requests in flight, a fifth connection refused (held for its 503), a sixth dropped.
    const server = await start({ GATEWAY_KRATOS_URL: upstream.url, MAX_CONNECTIONS: "4", METRICS_PORT: "0" });
    for (let i = 0; i < 4; i++)
      (await open(server.gatewayPort, `127.0.2.${i + 1}`)).socket.write("GET /sessions/whoami HTTP/1.1\r\nHost: a\r\n\r\n");
    await waitFor(() => (upstream.received.length === 4 ? true : undefined));
    const refused = await open(server.gatewayPort, "127.0.2.9");
    const dropped = await open(server.gatewayPort, "127.0.2.10");
    await closedSoon(dropped);
    expect(dropped.answers(["GET"])).toEqual([]);
    expect((await refused.get("/sessions/whoami")).status).toBe(503);
    expect(await metric(server.metricsPort, 'kratos_hooks_connections_refused_total{listener="gateway",bound="hard"}')).toBe(1);
    expect(await metric(server.metricsPort, 'kratos_hooks_connections_refused_total{listener="gateway",bound="overall"}')).toBe(1);
  });

  it("behind a trusted proxy, a per-address bound below the overall one is warned about at start", async () => {
    const server = await start({
      GATEWAY_KRATOS_URL: upstream.url,
      HOOKS_CONFIG: JSON.stringify({ gateway: { trustForwardedHeaders: true } }),
    });
    expect(server.lines.find((l) => l.level === 40 && String(l.msg).includes("MAX_CONNECTIONS_PER_ADDRESS"))).toMatchObject({
      perAddress: 256,
    });
    const raised = await start({
      GATEWAY_KRATOS_URL: upstream.url,
      HOOKS_CONFIG: JSON.stringify({ gateway: { trustForwardedHeaders: true } }),
      MAX_CONNECTIONS_PER_ADDRESS: "4096",
    });
    expect(raised.lines.some((l) => String(l.msg).includes("MAX_CONNECTIONS_PER_ADDRESS"))).toBe(false);
  });

  it.each([
    ["MAX_CONNECTIONS", "0", "MAX_CONNECTIONS: expected an integer from 1 to 1000000"],
    ["MAX_CONNECTIONS_PER_ADDRESS", "many", "MAX_CONNECTIONS_PER_ADDRESS: expected an integer from 1 to 1000000"],
  ])("%s=%s refuses to start (exit 78)", async (name, value, message) => {
    await expect(start({ [name]: value })).rejects.toThrow(message);
  });

  it("a per-address cap above the overall one refuses to start", async () => {
    await expect(start({ MAX_CONNECTIONS: "10", MAX_CONNECTIONS_PER_ADDRESS: "20" })).rejects.toThrow(
      "MAX_CONNECTIONS_PER_ADDRESS: expected at most MAX_CONNECTIONS (10), found 20",
    );
  });
});

describe("what Node refuses before the app, answered in the listener's shape with Connection: close", () => {
  async function raw(port: number, bytes: string): Promise<{ response: ParsedResponse | undefined; closed: boolean }> {
    const connection = await open(port);
    connection.socket.write(bytes);
    await closedSoon(connection);
    return { response: connection.answers(["GET"])[0], closed: connection.closed };
  }

  it("the gateway: 400 for a malformed request, 431 for oversized headers, in Kratos's shape", async () => {
    const server = await start({ GATEWAY_KRATOS_URL: upstream.url });
    const bad = await raw(server.gatewayPort, "GET /x HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n");
    expect(bad.response?.status).toBe(400);
    expect(JSON.parse(bad.response?.body.toString() ?? "")).toEqual({
      error: { code: 400, status: "Bad Request", reason: expect.any(String), message: "The request is not valid HTTP/1.1." },
    });
    const big = await raw(server.gatewayPort, `GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(big.response?.status).toBe(431);
    expect(JSON.parse(big.response?.body.toString() ?? "").error).toMatchObject({ code: 431, status: "Request Header Fields Too Large" });
    // A backslash in the path: Node takes it, the URL @hono/node-server builds does not.
    const backslash = await raw(server.gatewayPort, "GET /self-service\\login HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(backslash.response?.status).toBe(400);
    expect(JSON.parse(backslash.response?.body.toString() ?? "").error).toMatchObject({ code: 400, reason: "Backslash in request path" });
    for (const r of [bad, big, backslash])
      expect(headerValues(r.response ?? { startLine: "", headers: [] }, "connection")).toEqual(["close"]);
    expect(upstream.received).toHaveLength(0);
  });

  it("the hooks: the same statuses in the hooks' error shape", async () => {
    const server = await start();
    const bad = await raw(server.port, "GET /health HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
    expect(bad.response?.status).toBe(400);
    expect(JSON.parse(bad.response?.body.toString() ?? "")).toEqual({
      error: { code: "bad_request", message: "The request is not valid HTTP/1.1.", path: null },
    });
  });

  it("a connection that sends nothing is answered 408 and closed within the 10 s headers timeout", async () => {
    const server = await start({ GATEWAY_KRATOS_URL: upstream.url });
    const started = performance.now();
    const silent = await open(server.gatewayPort);
    await waitFor(() => (silent.closed ? true : undefined), 13_000);
    const seconds = (performance.now() - started) / 1000;
    expect(seconds).toBeLessThan(12);
    const [answer] = silent.answers(["GET"]);
    expect(answer?.status).toBe(408);
    expect(JSON.parse(answer?.body.toString() ?? "").error).toMatchObject({ code: 408, status: "Request Timeout" });
  }, 20_000);
});

describe("client addresses, as the bounds count them", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["::ffff:10.1.2.3", "10.1.2.3"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::9", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002:ffff::1", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
  ])("%s counts as %s (an IPv6 client by its /64, what one subscriber gets)", (address, key) => {
    expect(addressKey(address)).toBe(key);
  });

  it("every address of one /64 shares its bound", () => {
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe(addressKey("2001:db8:1:2:bbbb:cccc:dddd:eeee"));
    expect(addressKey("2001:db8:1:2::1")).not.toBe(addressKey("2001:db8:1:3::1"));
  });
});
