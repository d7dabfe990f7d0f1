import { Agent, request } from "node:http";
import { describe, expect, it } from "vitest";
import { loadFixture, TEST_KEY } from "../support/helpers.js";
import { run, start } from "../support/server-process.js";
import { DEFAULT_ANSWER, useUpstream } from "../support/upstream.js";

const upstream = useUpstream();
const BODY = Buffer.from(JSON.stringify(loadFixture("registration-after.password-phone-national")));

interface Outcome {
  status: number;
  connection: string | undefined;
  at: number;
}

/** One request on `agent`'s keep-alive connections; resolves with the status, or rejects with the socket error. */
function call(port: number, agent: Agent, path = "/hooks/registration-after"): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: path.startsWith("/hooks/") ? "POST" : "GET",
        agent,
        headers: path.startsWith("/hooks/")
          ? { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json", "content-length": BODY.length }
          : {},
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, at: performance.now() }));
      },
    );
    req.on("error", reject);
    req.end(path.startsWith("/hooks/") ? BODY : undefined);
  });
}

/** `connections` clients sending as fast as they can until `until()` says stop; every answer and every error. */
async function load(port: number, connections: number, until: () => boolean) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const outcomes: Outcome[] = [];
  const errors: string[] = [];
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (!until()) {
        try {
          outcomes.push(await call(port, agent));
        } catch (error) {
          errors.push((error as NodeJS.ErrnoException).code ?? String(error));
        }
      }
    }),
  );
  agent.destroy();
  return { outcomes, errors };
}

describe("SIGTERM drains without dropping (a real process under load)", () => {
  it("40 keep-alive clients through most of the drain: 0 resets, /health 503, Connection: close after the signal, exit 0", async () => {
    const server = await start({ SHUTDOWN_DRAIN_MS: "2000" });
    let stop = false;
    const running = load(server.port, 40, () => stop);
    await new Promise((resolve) => setTimeout(resolve, 800));
    const signalled = performance.now();
    server.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const health = await fetch(`http://127.0.0.1:${server.port}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: "draining" });
    // The load goes on through most of the drain; a load balancer has taken us out by its end.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    stop = true;
    const { outcomes, errors } = await running;
    expect(errors).toEqual([]);
    // The signal reaches the busy child a moment later; answers from then on say Connection: close.
    const after = outcomes.filter((o) => o.at > signalled + 250);
    expect(outcomes.length).toBeGreaterThan(500);
    expect(after.length).toBeGreaterThan(100);
    expect(after.filter((o) => o.status !== 200 || o.connection !== "close")).toEqual([]);
    expect(await server.exit).toBe(0);
    expect(server.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(["draining: readiness answers 503, still serving", "stopped"]));
  });

  it("the gateway's listener drains too: Kratos's /health/ready answers 503 from the gateway itself", async () => {
    const server = await start({ GATEWAY_KRATOS_URL: upstream.url, SHUTDOWN_DRAIN_MS: "1000" });
    const ready = () => fetch(`http://127.0.0.1:${server.gatewayPort}/health/ready`);
    expect((await ready()).status).toBe(200); // forwarded to Kratos
    server.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const draining = await ready();
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({ status: "draining" });
    // Everything else is still Kratos's, with Connection: close.
    const whoami = await fetch(`http://127.0.0.1:${server.gatewayPort}/sessions/whoami`);
    expect(await whoami.text()).toBe(DEFAULT_ANSWER === "hang" ? "" : DEFAULT_ANSWER.body);
    expect(whoami.headers.get("connection")).toBe("close");
    expect(upstream.received.map((r) => r.url)).toEqual(["/health/ready", "/sessions/whoami"]);
    expect(await server.exit).toBe(0);
  });

  it("a request still running when the drain ends finishes; past SHUTDOWN_TIMEOUT_MS the process exits 1", async () => {
    upstream.answer = () => ({ ...(DEFAULT_ANSWER as Exclude<typeof DEFAULT_ANSWER, "hang">), delayMs: 800 });
    const server = await start({ GATEWAY_KRATOS_URL: upstream.url, SHUTDOWN_DRAIN_MS: "200" });
    const slow = fetch(`http://127.0.0.1:${server.gatewayPort}/sessions/whoami`);
    while (upstream.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    server.child.kill("SIGTERM");
    expect((await slow).status).toBe(200);
    expect(await server.exit).toBe(0);

    upstream.answer = () => "hang";
    const stuck = await start({ GATEWAY_KRATOS_URL: upstream.url, SHUTDOWN_DRAIN_MS: "100", SHUTDOWN_TIMEOUT_MS: "600" });
    fetch(`http://127.0.0.1:${stuck.gatewayPort}/sessions/whoami`).catch(() => undefined);
    while (upstream.received.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    stuck.child.kill("SIGTERM");
    expect(await stuck.exit).toBe(1);
  });

  it("refuses a timeout that leaves no time after the drain (exit 78)", async () => {
    const proc = run({ PORT: "0", HOST: "127.0.0.1", HOOKS_API_KEYS: TEST_KEY, SHUTDOWN_DRAIN_MS: "5000", SHUTDOWN_TIMEOUT_MS: "5000" });
    expect(await proc.exit).toBe(78);
    expect(proc.stderr()).toContain("SHUTDOWN_TIMEOUT_MS: expected more than SHUTDOWN_DRAIN_MS (5000)");
  });
});
