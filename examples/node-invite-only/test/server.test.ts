// The example as it runs: `node dist/server.js` as a real process, in front of a real invite
// service on loopback that can answer, fail or hang. Nothing of kratos-hooks is mocked.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const KEY = "example-key-0123456789abcdef";
const INVITED = "jane.doe@example.com";

type Mode = "answer" | "fail" | "hang";
let mode: Mode = "answer";
let invites: Server;
let invitesUrl = "";
const asked: string[] = [];
const cancelled: string[] = [];

beforeAll(async () => {
  invites = createServer((req, res) => {
    asked.push(req.url ?? "");
    req.on("close", () => {
      if (!res.writableEnded) cancelled.push(req.url ?? "");
    });
    if (mode === "hang") return;
    if (mode === "fail") {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(req.url === `/invites/${encodeURIComponent(INVITED)}` ? 200 : 404).end();
  });
  invites.listen(0, "127.0.0.1");
  await once(invites, "listening");
  invitesUrl = `http://127.0.0.1:${(invites.address() as AddressInfo).port}/`;
});
afterAll(() => {
  invites.closeAllConnections();
  invites.close();
});

interface Running {
  child: ChildProcess;
  hooks: string;
  gateway: string | undefined;
  lines: Record<string, unknown>[];
}
const running: Running[] = [];
afterEach(() => {
  mode = "answer";
  for (const { child } of running.splice(0)) child.kill("SIGKILL");
});

/** Starts the example with its own env on free ports and waits for its listeners. */
async function start(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, ["dist/server.js"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOST: "127.0.0.1",
      PORT: "0",
      GATEWAY_PORT: "0",
      HOOKS_API_KEYS: KEY,
      INVITES_URL: invitesUrl,
      SHUTDOWN_DRAIN_MS: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: Record<string, unknown>[] = [];
  const ports = new Map<string, number>();
  const wanted = env.GATEWAY_KRATOS_URL === undefined ? 1 : 2;
  const ready = new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the example exited ${code} before listening`)));
    if (child.stdout === null) throw new Error("no stdout");
    createInterface({ input: child.stdout }).on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.msg === "listening") ports.set(String(entry.listener), Number(entry.port));
      if (ports.size === wanted) resolve();
    });
  });
  await ready;
  const entry: Running = {
    child,
    hooks: `http://127.0.0.1:${ports.get("hooks")}`,
    gateway: ports.has("gateway") ? `http://127.0.0.1:${ports.get("gateway")}` : undefined,
    lines,
  };
  running.push(entry);
  return entry;
}

/** What Kratos sends to registration-after (`kratos/hooks/registration-after.jsonnet`), reduced. */
function signUp(hooks: string, traits: Record<string, unknown>) {
  return fetch(`${hooks}/hooks/registration-after`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      flow: { id: "5f0b2c1e-0000-4000-8000-000000000001", type: "browser", ui: { nodes: [] } },
      identity: { id: "5f0b2c1e-0000-4000-8000-000000000002", schema_id: "email", traits, metadata_public: null },
    }),
  });
}

const messageOn = (pointer: string, id: number, text: string, context: Record<string, unknown> = {}) => ({
  messages: [{ instance_ptr: pointer, messages: [{ id, text, type: "error", context }] }],
});

describe("invite-only sign-up", () => {
  it("lets an invited address through and refuses any other under the email field", async () => {
    const { hooks } = await start({ HOOKS_CONFIG: '{"routeSchema":{"enabled":false}}' });
    expect((await signUp(hooks, { email: "Jane.Doe@Example.com" })).status).toBe(204);
    const refused = await signUp(hooks, { email: "someone@example.com" });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toEqual(
      messageOn("#/traits/email", 4_190_001, "Sign-up is by invitation only. Use the email address your invitation was sent to."),
    );
    expect(asked.slice(-2)).toEqual([`/invites/${encodeURIComponent(INVITED)}`, "/invites/someone%40example.com"]);
  });

  it("refuses with a message above the form when the invite service fails", async () => {
    const { hooks, lines } = await start({});
    mode = "fail";
    const res = await signUp(hooks, { email: INVITED });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual(
      messageOn("#/", 4_190_002, "We could not check your invitation just now. Please try again in a moment."),
    );
    await expect.poll(() => lines.find((l) => l.msg === "invite service failed")).toMatchObject({ status: 503 });
  });

  it.each([
    ["closed", 422],
    ["open", 204],
  ] as const)(
    "when the invite service hangs, the budget fires, the request is cancelled, and failMode %s answers %i",
    async (failMode, status) => {
      const { hooks, lines } = await start({ HOOKS_CONFIG: JSON.stringify({ budgetMs: 300, failMode, routeSchema: { enabled: false } }) });
      mode = "hang";
      const before = cancelled.length;
      const started = performance.now();
      const res = await signUp(hooks, { email: INVITED });
      const tookMs = performance.now() - started;
      expect(res.status).toBe(status);
      if (status === 422) {
        expect(await res.json()).toEqual(
          messageOn("#/", 4_100_901, "We could not finish checking your details in time. Please try again.", { reason: "timeout" }),
        );
      }
      // Not an assertion on speed: the answer came once the budget was spent, not at a socket timeout.
      expect(tookMs).toBeGreaterThanOrEqual(290);
      await expect.poll(() => cancelled.length).toBe(before + 1);
      await expect
        .poll(() => lines.find((l) => l.msg === "hook exceeded its time budget"))
        .toMatchObject({ policy: "invite-only", failMode });
    },
  );

  it("kratos-hooks try --url shows what Kratos would do with the example's answer", async () => {
    const { hooks } = await start({ HOOKS_API_KEYS: "dev-only-insecure-key", HOOKS_CONFIG: '{"routeSchema":{"enabled":false}}' });
    const run = promisify(execFile);
    // The shipped example ctx signs up Jane.Doe@Example.com, who is invited: Kratos saves.
    const ok = await run("npx", ["kratos-hooks", "try", "registration-after", "--example", "password-email", "--url", hooks], {
      cwd: ROOT,
    });
    expect(ok.stdout).toMatch(/^CONTINUE {2}Kratos continues unchanged$/m);
    mode = "fail";
    const refused = await run("npx", ["kratos-hooks", "try", "registration-after", "--example", "password-email", "--url", hooks], {
      cwd: ROOT,
    }).catch((error: { code: number; stdout: string }) => error);
    expect("code" in refused ? refused.code : 0).toBe(1);
    expect(refused.stdout).toMatch(/^STOP /m);
    expect(refused.stdout).toContain("We could not check your invitation just now.");
  });
});

describe("the login limit at the gateway", () => {
  it("lets LOGIN_LIMIT submissions per address through to Kratos, then answers 429 in Kratos's error shape", async () => {
    // No Kratos here: what gets through is forwarded and answered 502 by the gateway, so a
    // submission the rule let through is told apart from one it refused.
    const { gateway } = await start({ GATEWAY_KRATOS_URL: "http://127.0.0.1:9", LOGIN_LIMIT: "3" });
    const submit = () =>
      fetch(`${gateway}/self-service/login?flow=f`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await submit()).status);
    expect(statuses).toEqual([502, 502, 502, 429]);
    const refused = await submit();
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await refused.json()).toEqual({
      error: {
        code: 429,
        status: "Too Many Requests",
        reason: "login_rate_limited",
        message: "Too many sign-in attempts. Please wait a minute and try again.",
      },
    });
    // Other paths are not counted.
    expect((await fetch(`${gateway}/self-service/login/browser`)).status).toBe(502);
  });

  it("stops cleanly on SIGTERM (the drain of kratos-hooks/node)", async () => {
    const entry = await start({});
    entry.child.kill("SIGTERM");
    const [code] = await once(entry.child, "exit");
    expect(code).toBe(0);
    expect(entry.lines.some((l) => l.msg === "stopped")).toBe(true);
  });
});
