import { once } from "node:events";
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createPinoLogger } from "../../src/adapters/node-logger.js";
import { createShieldAdmin } from "../../src/adapters/shield-admin.js";
import { EXIT, EXIT_CODES_HELP } from "../../src/cli/usage.js";
import { parseConfig } from "../../src/config/parse.js";
import type { Attempt } from "../../src/gateway/shield/attempt.js";
import { MemoryStore } from "../../src/gateway/shield/memory-store.js";
import { createShield } from "../../src/gateway/shield/shield.js";
import type { ShieldStore } from "../../src/gateway/shield/store.js";
import { cli, cliProcess } from "../support/cli.js";
import { TEST_KEY } from "../support/helpers.js";
import { type Running, start } from "../support/server-process.js";
import { type Answer, type Received, startUpstream, type Upstream } from "../support/upstream.js";

// `kratos-hooks shield status|unlock` (docs/cli.md#shield): the admin routes on their own with
// app.request(), then the CLI against the real service process, whose gateway counts failed
// logins in its memory. The --redis path: test/redis/shield-cli.redis.test.ts.

const SECRET = "a-test-secret-of-some-length";
const RAW_CONFIG = { normalizePhone: { defaultRegion: "DE" }, gateway: { shield: { login: { identifierLockAfter: 3 } } } };
/** Every way the test spells the one identifier, and its digits: none may reach a log. */
const PHONE = "+4917612345678";
const SPELLINGS = ["0176 1234 5678", "+49 176 1234 5678", PHONE];
const LEAKS = ["4917612345678", "17612345678", "176 1234", "jane"];

const ENV_NAMES = ["HOOKS_API_KEY", "HOOKS_API_KEYS", "GATEWAY_SHIELD_SECRET", "HOOKS_CONFIG", "HOOKS_CONFIG_FILE"] as const;
const savedEnv = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));
afterEach(() => {
  for (const name of ENV_NAMES) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

/** A loopback port nothing listens on (fetch refuses some low ports outright: "bad port"). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, "close");
  return port;
}

/** A failed password login as the gateway's shield records it. */
async function failLogin(shield: ReturnType<typeof createShield>, identifier: string): Promise<void> {
  const attempt: Attempt = {
    flow: "login",
    flowId: "f1",
    method: "password",
    identifier,
    identifierKind: identifier.includes("@") ? "email" : "phone",
    checksCredential: true,
    clientAddress: "203.0.113.7",
    clientKind: "json",
    sends: undefined,
  };
  const check = await shield.check(attempt, true, undefined);
  await check.after?.({ kind: "credential_failure", messageId: 4000006 });
}

describe("the admin routes (src/adapters/shield-admin.ts)", () => {
  function setup(store: ShieldStore = new MemoryStore()) {
    let output = "";
    const sink = new Writable({
      write(chunk, _encoding, done) {
        output += chunk.toString();
        done();
      },
    });
    const config = parseConfig(RAW_CONFIG, "test");
    const shield = createShield({ config: config.gateway.shield, store, secret: SECRET, allowedCountries: null, deniedCountries: [] });
    const admin = createShieldAdmin({ shield, apiKeys: [TEST_KEY], config, logger: createPinoLogger("info", sink) });
    const call = (action: string, body: unknown, headers: Record<string, string> = {}) =>
      admin.request(`/admin/shield/${action}`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    const lines = () =>
      output
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { shield, admin, call, lines, log: () => output };
  }

  it("status: the failures, the lock and when they are forgotten, for every spelling of the identifier", async () => {
    const { shield, call } = setup();
    for (let i = 0; i < 3; i++) await failLogin(shield, PHONE);
    for (const identifier of SPELLINGS) {
      const res = await call("status", { identifier });
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toBe("no-store");
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toEqual({ failures: 3, locked: true, reset_at: expect.any(String), sms_sent: 0 });
      expect(Date.parse(body.reset_at as string)).toBeGreaterThan(Date.now());
    }
    // A national number in a region other than the default: another number.
    expect(await (await call("status", { identifier: "0176 1234 5678", region: "AT" })).json()).toMatchObject({ failures: 0 });
  });

  it("unlock: the identifier starts afresh, and the gateway's shield lets it through", async () => {
    const { shield, call } = setup();
    for (let i = 0; i < 3; i++) await failLogin(shield, "jane@example.com");
    const res = await call("unlock", { identifier: "  Jane@Example.com " });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ unlocked: true });
    expect(await (await call("status", { identifier: "jane@example.com" })).json()).toEqual({
      failures: 0,
      locked: false,
      reset_at: null,
      sms_sent: 0,
    });
  });

  it("logs one line per call with the identifier's pseudonym, never the identifier", async () => {
    const { shield, call, lines, log } = setup();
    await call("status", { identifier: "0176 1234 5678" });
    await call("unlock", { identifier: "jane@example.com" });
    await call("status", { identifier: "x" }, { authorization: "Bearer wrong-key-0123456789abcdef" });
    const subject = (await shield.pseudonyms.of("identifier", PHONE)).slice(0, 12);
    expect(lines()).toEqual([
      expect.objectContaining({ shield: "admin_status", status: 200, subject, kind: "phone", failures: 0, locked: false }),
      expect.objectContaining({ shield: "admin_unlock", status: 200, subject: expect.stringMatching(/^[\w-]{12}$/), kind: "email" }),
      expect.objectContaining({ shield: "admin_status", status: 401, keyId: expect.stringMatching(/^sha256:[0-9a-f]{8}…$/) }),
    ]);
    for (const leak of [...LEAKS, "wrong-key"]) expect(log()).not.toContain(leak);
  });

  it.each([
    ["no Content-Type", { identifier: PHONE }, { "content-type": "text/plain" }, "unsupported_content_type", null],
    ["not JSON", "identifier=1", {}, "invalid_json", null],
    ["not an object", [PHONE], {}, "invalid_payload", null],
    ["no identifier", {}, {}, "invalid_payload", "identifier"],
    ["an identifier that is no string", { identifier: 4917612345678 }, {}, "invalid_payload", "identifier"],
    ["an empty identifier", { identifier: "   " }, {}, "invalid_payload", "identifier"],
    ["an identifier too long", { identifier: "a".repeat(321) }, {}, "invalid_payload", "identifier"],
    ["a region that is none", { identifier: PHONE, region: "XX" }, {}, "invalid_payload", "region"],
    ["an unknown key", { identifier: PHONE, flow: "f1" }, {}, "invalid_payload", "flow"],
  ])("bad input, %s: 400 naming the problem, never the identifier", async (_name, body, headers, code, path) => {
    const { call } = setup();
    const res = await call("status", body, headers);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; message: string; path: string | null } };
    expect(error).toMatchObject({ code, path });
    expect(error.message).toMatch(code === "invalid_json" ? /^body is not valid UTF-8 JSON$/ : /^expected /);
    expect(error.message).not.toContain("4917612345678");
  });

  it("a body over 4 KiB: 413", async () => {
    const { call } = setup();
    expect((await call("status", { identifier: PHONE, pad: "x".repeat(5000) })).status).toBe(413);
  });

  it.each([
    ["no key", {}],
    ["a wrong key", { authorization: "Bearer wrong-key-0123456789abcdef" }],
    ["the key without Bearer", { authorization: TEST_KEY }],
  ])("%s: 401, and nothing is read or changed", async (_name, headers) => {
    const { shield, call } = setup();
    for (let i = 0; i < 3; i++) await failLogin(shield, PHONE);
    const res = await call("unlock", { identifier: PHONE }, { authorization: "", ...headers });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
    expect((await shield.status(PHONE)).locked).toBe(true);
  });

  it("GET: 405; another path under /admin/shield/: the hooks' 404", async () => {
    const { admin, call } = setup();
    const get = await admin.request("/admin/shield/status", { headers: { authorization: `Bearer ${TEST_KEY}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const other = await call("frobnicate", { identifier: PHONE });
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: { code: "not_found", message: "no route for POST /admin/shield/frobnicate", path: null } });
  });

  it("a store that does not answer: 503, never a 500", async () => {
    const down = new MemoryStore();
    const fail = () => Promise.reject(new Error("ECONNREFUSED"));
    Object.assign(down, { peek: fail, get: fail, put: fail, reset: fail, hit: fail });
    const { call } = setup(down);
    for (const action of ["status", "unlock"]) {
      const res = await call(action, { identifier: PHONE });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unavailable");
    }
  });
});

/**
 * Kratos's password login as the shield reads it (test/shield/gateway-shield.test.ts has the
 * fuller stand-in): the right password signs in, any other is a 400 with the flow and 4000006.
 */
function kratosLogin(request: Received): Answer {
  const url = new URL(request.url, "http://kratos");
  const flow = url.searchParams.get("flow") ?? url.searchParams.get("id") ?? "none";
  const flowOf = (messages: unknown[]) =>
    JSON.stringify({
      id: flow,
      type: "api",
      state: "choose_method",
      ui: { action: `http://kratos/self-service/login?flow=${flow}`, method: "POST", nodes: [], messages },
    });
  if (request.method === "GET" && url.pathname === "/self-service/login/flows") {
    return { status: 200, headers: { "content-type": "application/json" }, body: flowOf([]) };
  }
  if (request.method !== "POST" || url.pathname !== "/self-service/login") return { status: 404, body: "" };
  const fields = JSON.parse(request.body.toString()) as Record<string, string>;
  if (fields.identifier === PHONE && fields.password === "right") {
    return {
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ session_token: "tok", session: { id: "s" } }),
    };
  }
  return {
    status: 400,
    headers: { "content-type": "application/json" },
    body: flowOf([
      {
        id: 4000006,
        type: "error",
        text: "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.",
      },
    ]),
  };
}

describe("kratos-hooks shield against the running service (its memory store, through the admin route)", () => {
  let upstream: Upstream;
  let service: Running;
  const url = () => `http://127.0.0.1:${service.port}`;
  const posts = () => upstream.received.filter((r) => r.method === "POST" && r.url.startsWith("/self-service/login")).length;
  const login = (identifier: string, password: string) =>
    fetch(`http://127.0.0.1:${service.gatewayPort}/self-service/login?flow=f1`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ method: "password", identifier, password }),
    });
  const messageIds = async (res: Response) =>
    (((await res.json()) as { ui?: { messages?: { id: number }[] } }).ui?.messages ?? []).map((m) => m.id);

  beforeAll(async () => {
    upstream = await startUpstream();
    upstream.answer = kratosLogin;
    service = await start({ GATEWAY_KRATOS_URL: upstream.url, HOOKS_CONFIG: JSON.stringify(RAW_CONFIG) }, true);
  });
  afterAll(async () => {
    service?.child.kill("SIGKILL");
    await upstream?.close();
  });

  it("status shows the failed logins and the lock, unlock ends it, and the next login reaches Kratos again", async () => {
    process.env.HOOKS_API_KEY = TEST_KEY;
    for (const spelling of SPELLINGS) expect(await messageIds(await login(spelling, "wrong"))).toEqual([4000006]);
    expect(posts()).toBe(3);
    // The fourth is refused by the shield: Kratos never sees it.
    const refused = await login("0176-12345678", "right");
    expect(await messageIds(refused)).toEqual([4100402]);
    expect(posts()).toBe(3);

    const human = await cli("shield", "status", "+49 176 1234 5678", "--url", url());
    expect(human).toMatchObject({ code: EXIT.ok, stderr: "" });
    expect(human.stdout).toMatch(/^failed logins {2}3, forgotten at \d{4}-\d\d-\d\dT[\d:.]+Z$/m);
    expect(human.stdout).toMatch(/^locked {9}yes: /m);
    expect(human.stdout).toMatch(/^SMS sent {7}0 in the current window$/m);
    const json = await cli("shield", "status", "0176 1234 5678", "--url", url(), "--json");
    expect(JSON.parse(json.stdout)).toEqual({ failures: 3, locked: true, reset_at: expect.any(String), sms_sent: 0 });

    const unlock = await cli("shield", "unlock", "01761234 5678", "--region", "DE", "--url", url());
    expect(unlock).toMatchObject({ code: EXIT.ok, stderr: "" });
    expect(unlock.stdout).toMatch(/^unlocked: /);
    expect(JSON.parse((await cli("shield", "status", PHONE, "--url", url(), "--json")).stdout)).toEqual({
      failures: 0,
      locked: false,
      reset_at: null,
      sms_sent: 0,
    });

    const after = await login("0176 1234 5678", "right");
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ session_token: "tok" });
    expect(posts()).toBe(4);
  });

  it("a wrong key: exit 2 and a message that names the fix (the built command, as a shell sees it)", async () => {
    const run = await cliProcess(["shield", "unlock", PHONE, "--url", url()], { env: { HOOKS_API_KEYS: "wrong-key-0123456789abcdef" } });
    expect(run.code).toBe(EXIT.usage);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(`kratos-hooks: the service at ${url()} refused the key (401): set HOOKS_API_KEY`);
    expect(run.stderr).not.toContain("wrong-key-0123456789abcdef");
  });

  it("input the service refuses: exit 2 with its message", async () => {
    process.env.HOOKS_API_KEY = TEST_KEY;
    const run = await cli("shield", "status", "a".repeat(400), "--url", url());
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toBe("kratos-hooks: the service refused the request (400): expected at most 320 characters, found 400\n");
  });

  it("the first of HOOKS_API_KEYS is sent when HOOKS_API_KEY is unset", async () => {
    delete process.env.HOOKS_API_KEY;
    process.env.HOOKS_API_KEYS = ` ${TEST_KEY},another-key-0123456789abcdef`;
    expect((await cli("shield", "status", PHONE, "--url", `${url()}/`)).code).toBe(EXIT.ok);
  });

  it("the gateway's listener has no admin route: the path is Kratos's, and the CLI says there is no shield there", async () => {
    process.env.HOOKS_API_KEY = TEST_KEY;
    const run = await cli("shield", "status", PHONE, "--url", `http://127.0.0.1:${service.gatewayPort}`);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/no shield at .* \(404\): .*on the hooks listener \(PORT, 8787\), never on the gateway's/);
    expect(upstream.received.at(-1)).toMatchObject({ method: "POST", url: "/admin/shield/status" });
  });

  it("the service's log holds every call, and never the identifier", async () => {
    const log = service.lines;
    const calls = log.filter((l) => typeof l.shield === "string" && String(l.shield).startsWith("admin_"));
    expect(calls.length).toBeGreaterThanOrEqual(6);
    expect(calls.filter((l) => l.status === 401)).toHaveLength(1);
    const text = log.map((l) => JSON.stringify(l)).join("\n");
    for (const leak of LEAKS) expect(text).not.toContain(leak);
  });
});

describe("kratos-hooks shield without a shield to ask", () => {
  it.each([
    ["no gateway", {}],
    [
      "the shield off",
      { GATEWAY_KRATOS_URL: "http://127.0.0.1:9", HOOKS_CONFIG: JSON.stringify({ gateway: { shield: { enabled: false } } }) },
    ],
  ])("%s: the hooks' own 404 for /admin/shield/*, and exit 2 naming why", async (_name, env) => {
    const service = await start(env as Record<string, string>);
    const res = await fetch(`http://127.0.0.1:${service.port}/admin/shield/status`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ identifier: PHONE }),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "not_found", message: "no route for POST /admin/shield/status", path: null } });
    process.env.HOOKS_API_KEY = TEST_KEY;
    const run = await cli("shield", "status", PHONE, "--url", `http://127.0.0.1:${service.port}`);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/no shield at .*: it runs only beside the gateway \(GATEWAY_KRATOS_URL set, gateway\.shield\.enabled\)/);
  });

  it("a service that is not there: exit 2", async () => {
    const port = await closedPort();
    const run = await cli("shield", "status", PHONE, "--url", `http://127.0.0.1:${port}`);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain(`cannot reach the service at http://127.0.0.1:${port} (ECONNREFUSED)`);
  });

  it("plain http to another machine: refused before anything is sent, unless --insecure", async () => {
    process.env.HOOKS_API_KEY = TEST_KEY;
    const port = await closedPort();
    const refused = await cli("shield", "status", PHONE, "--url", `http://0.0.0.0:${port}`);
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.stderr).toContain(`refusing to send the API key over plain http to 0.0.0.0:${port}, which is not this machine`);
    expect(refused.stderr).toContain("--insecure");
    // With --insecure it is sent (here: nothing listens there).
    const sent = await cli("shield", "status", PHONE, "--url", `http://0.0.0.0:${port}`, "--insecure");
    expect(sent.stderr).toContain("cannot reach the service at http://0.0.0.0:");
    expect(sent.stderr).toContain("(ECONNREFUSED)");
  });

  it("--redis without GATEWAY_SHIELD_SECRET, or a Redis that is not there: exit 2", async () => {
    delete process.env.GATEWAY_SHIELD_SECRET;
    const noSecret = await cli("shield", "status", PHONE, "--redis", "redis://127.0.0.1:1/0");
    expect(noSecret.code).toBe(EXIT.usage);
    expect(noSecret.stderr).toContain("--redis needs GATEWAY_SHIELD_SECRET");
    process.env.GATEWAY_SHIELD_SECRET = SECRET;
    const down = await cli("shield", "status", PHONE, "--redis", "redis://:pw@127.0.0.1:1/0");
    expect(down.code).toBe(EXIT.usage);
    expect(down.stderr).toMatch(/cannot reach Redis: The shield's Redis at redis:\/\/127\.0\.0\.1:1\/0 failed/);
    expect(down.stderr).not.toContain("pw");
  });

  it.each([
    [["shield"], /usage: kratos-hooks shield status\|unlock <identifier>/],
    [["shield", "reset", PHONE], /unknown shield command "reset"/],
    [["shield", "status"], /name the identifier/],
    [["shield", "status", "0176", "1234"], /unexpected argument "1234"/],
    [["shield", "status", PHONE, "--url", "http://127.0.0.1:8787", "--redis", "redis://127.0.0.1:6379"], /either --url or --redis/],
    [["shield", "status", PHONE, "--config", "x.json"], /--config is read with --redis only/],
    [["shield", "status", PHONE, "--region", "Germany"], /--region: expected an ISO 3166-1 alpha-2 region/],
    [["shield", "status", PHONE, "--url", "ftp://127.0.0.1"], /--url: expected the hooks listener's http\(s\) URL/],
    [["shield", "status", PHONE, "--redis", "http://127.0.0.1:6379"], /--redis: The shield's Redis URL must look like redis:\/\//],
  ])("%j: a usage error, exit 2", async (argv, message) => {
    process.env.GATEWAY_SHIELD_SECRET = SECRET;
    const run = await cli(...argv);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(message);
  });

  it("--help prints the options and the one exit-code table", async () => {
    for (const argv of [
      ["shield", "--help"],
      ["shield", "status", "--help"],
      ["help", "shield"],
    ]) {
      const run = await cli(...argv);
      expect(run.code).toBe(EXIT.ok);
      expect(run.stdout).toContain("--redis <url>");
      expect(run.stdout).toContain(EXIT_CODES_HELP);
    }
    expect((await cli("--help")).stdout).toContain("kratos-hooks shield status|unlock <identifier>");
  });
});
