import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedisShieldStore, type RedisShieldStore } from "../../src/adapters/redis-shield-store.js";
import { EXIT } from "../../src/cli/usage.js";
import { parseConfig } from "../../src/config/parse.js";
import type { Attempt } from "../../src/gateway/shield/attempt.js";
import { createShield, type Shield } from "../../src/gateway/shield/shield.js";
import { cli } from "../support/cli.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";

// `kratos-hooks shield status|unlock --redis` (docs/cli.md#shield): straight to the Redis a
// gateway counts in, with the gateway's secret and config; no service needed. The shield here
// is the gateway's own (createShield on createRedisShieldStore), as `npm start` builds it.

const SECRET = "a-test-secret-of-some-length";
const RAW_CONFIG = { normalizePhone: { defaultRegion: "DE" }, gateway: { shield: { login: { identifierLockAfter: 3 } } } };
const PHONE = "+4917612345678";

let server: RedisServer;
let store: RedisShieldStore;
let gateway: Shield;

const ENV_NAMES = ["GATEWAY_SHIELD_SECRET", "HOOKS_CONFIG", "HOOKS_CONFIG_FILE"] as const;
const savedEnv = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));

beforeAll(async () => {
  server = await startRedisServer();
  store = createRedisShieldStore(server.url);
  await store.ready();
  const config = parseConfig(RAW_CONFIG, "test");
  gateway = createShield({ config: config.gateway.shield, store, secret: SECRET, allowedCountries: null, deniedCountries: [] });
});
afterAll(async () => {
  await store?.close();
  await server?.stop();
});
afterEach(() => {
  for (const name of ENV_NAMES) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

function attempt(identifier: string, fields: Partial<Attempt> = {}): Attempt {
  return {
    flow: "login",
    flowId: "f1",
    method: "password",
    identifier,
    identifierKind: "phone",
    checksCredential: true,
    clientAddress: "203.0.113.7",
    clientKind: "json",
    sends: undefined,
    ...fields,
  };
}

/** A failed login, as the gateway records it; not per client (this file fails many identifiers from one address). */
async function failLogin(identifier: string): Promise<void> {
  const check = await gateway.check(attempt(identifier), false, undefined);
  expect(check.refusal).toBeUndefined();
  await (await check.after?.({ kind: "credential_failure", messageId: 4000006 }))?.write();
}

async function statusJSON(identifier: string, ...more: string[]) {
  const run = await cli("shield", "status", identifier, "--redis", server.url, "--json", ...more);
  expect(run).toMatchObject({ code: EXIT.ok, stderr: "" });
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

describe("kratos-hooks shield --redis", () => {
  it("status reads what the gateway wrote, unlock ends the lock, and the gateway lets the identifier through", async () => {
    process.env.GATEWAY_SHIELD_SECRET = SECRET;
    process.env.HOOKS_CONFIG = JSON.stringify(RAW_CONFIG);
    for (let i = 0; i < 3; i++) await failLogin(PHONE);
    // A recovery code by SMS: one SMS to the number (and no login attempt in flight).
    const recovery = { flow: "recovery", method: "code", identifier: undefined, checksCredential: false } as const;
    await gateway.check(attempt(PHONE, { ...recovery, sends: { channel: "sms", to: PHONE } }), true, undefined);

    // National in the config's default region (DE), or in --region.
    expect(await statusJSON("0176 1234 5678")).toEqual({ failures: 3, locked: true, reset_at: expect.any(String), sms_sent: 1 });
    expect(await statusJSON("176 1234 5678", "--region", "de")).toMatchObject({ failures: 3, locked: true });
    const human = await cli("shield", "status", "+49 176 1234 5678", "--redis", server.url);
    expect(human.stdout).toMatch(/^failed logins {2}3, forgotten at /m);
    expect(human.stdout).toMatch(/^SMS sent {7}1 in the current window$/m);
    expect((await gateway.check(attempt(PHONE), true, undefined)).refusal?.reason).toBe("identifier_locked");

    const unlock = await cli("shield", "unlock", "0176 1234 5678", "--redis", server.url);
    expect(unlock).toMatchObject({ code: EXIT.ok, stderr: "" });
    expect(unlock.stdout).toMatch(/^unlocked: /);
    expect(await statusJSON(PHONE)).toEqual({ failures: 0, locked: false, reset_at: null, sms_sent: 0 });
    expect((await gateway.check(attempt(PHONE), true, undefined)).refusal).toBeUndefined();
  });

  it("another secret names another person: nothing counted, so the secret must be the gateway's", async () => {
    process.env.HOOKS_CONFIG = JSON.stringify(RAW_CONFIG);
    for (let i = 0; i < 3; i++) await failLogin("jane@example.com");
    process.env.GATEWAY_SHIELD_SECRET = SECRET;
    expect(await statusJSON("Jane@Example.com")).toMatchObject({ failures: 3, locked: true });
    process.env.GATEWAY_SHIELD_SECRET = "another-secret-of-some-length";
    expect(await statusJSON("jane@example.com")).toMatchObject({ failures: 0, locked: false });
  });

  it("the lock threshold is the config's: without it, the default (25) is not reached", async () => {
    process.env.GATEWAY_SHIELD_SECRET = SECRET;
    for (let i = 0; i < 3; i++) await failLogin("john@example.com");
    delete process.env.HOOKS_CONFIG;
    expect(await statusJSON("john@example.com")).toMatchObject({ failures: 3, locked: false });
  });

  it("a Redis that went away: exit 2, its address named without the password", async () => {
    process.env.GATEWAY_SHIELD_SECRET = SECRET;
    const other = await startRedisServer({ password: "s3cret-pw" });
    const url = other.url;
    await other.stop();
    const run = await cli("shield", "status", PHONE, "--redis", url);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/^kratos-hooks: cannot reach Redis: The shield's Redis at redis:\/\/127\.0\.0\.1:\d+\/0 failed/);
    expect(run.stderr).not.toContain("s3cret-pw");
  });
});
