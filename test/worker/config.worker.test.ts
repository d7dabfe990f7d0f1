import { afterEach, describe, expect, it, vi } from "vitest";
import loginBefore from "../../kratos/examples/login-before.browser.json" with { type: "json" };
import disposable from "../../kratos/examples/registration-after.disposable-email.json" with { type: "json" };
import worker, { type Env } from "../../src/adapters/worker.js";

// The Worker's entry called directly in workerd with bindings of our choosing: what a deployment
// with missing or wrong settings answers.
const KEY = "worker-key-0123456789abcdef";
const DEV_KEY = "dev-only-insecure-key";

function call(env: Env, key = KEY, body: unknown = loginBefore, hook = "login-before"): Promise<Response> {
  return Promise.resolve(
    worker.fetch(
      new Request(`http://worker.test/hooks/${hook}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
      env,
    ),
  );
}

let logged: string[] = [];
const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
  logged.push(String(line));
});
afterEach(() => {
  logged = [];
});

describe("Worker bindings", () => {
  it("refuses to serve without HOOKS_API_KEYS: 503 everywhere, the reason in the log", async () => {
    const res = await call({});
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: { code: "misconfigured", message: "the service is not configured; see its logs", path: null },
    });
    const health = await worker.fetch(new Request("http://worker.test/health"), {});
    expect(health.status).toBe(503);
    expect(logged.join("\n")).toContain("HOOKS_API_KEYS: expected at least one API key");
    expect(spy).toHaveBeenCalled();
  });

  it("refuses the development key unless HOOKS_DEV_MODE=true (.dev.vars for wrangler dev)", async () => {
    expect((await call({ HOOKS_API_KEYS: DEV_KEY }, DEV_KEY)).status).toBe(503);
    expect(logged.join("\n")).toContain("found the development key");
    expect((await call({ HOOKS_DEV_MODE: "true" }, DEV_KEY)).status).toBe(204);
    expect(logged.join("\n")).toContain("accepting only the development key");
  });

  it("takes HOOKS_CONFIG as a JSON string or as a TOML table (an object binding)", async () => {
    const config = { denyRules: { blockDisposable: false } };
    const asString = await call({ HOOKS_API_KEYS: KEY, HOOKS_CONFIG: JSON.stringify(config) }, KEY, disposable, "registration-after");
    const asObject = await call({ HOOKS_API_KEYS: KEY, HOOKS_CONFIG: config }, KEY, disposable, "registration-after");
    const defaults = await call({ HOOKS_API_KEYS: KEY }, KEY, disposable, "registration-after");
    expect([asString.status, asObject.status, defaults.status]).toEqual([200, 200, 422]);
  });

  it.each([
    ["broken JSON", "{", "HOOKS_CONFIG: expected JSON"],
    ["an unknown key", '{"budgetMS": 10}', "budgetMS: unknown key"],
    ["a schema file reference", '{"identitySchemas": {"staff": "./staff.json"}}', "file references need the Node runtime"],
  ])("answers 503 for %s in HOOKS_CONFIG and logs what to fix", async (_name, config, reason) => {
    const res = await call({ HOOKS_API_KEYS: KEY, HOOKS_CONFIG: config });
    expect(res.status).toBe(503);
    expect(logged.join("\n")).toContain(reason);
  });

  it("logs a key's problem without its value", async () => {
    await call({ HOOKS_API_KEYS: "short-secret" });
    expect(logged.join("\n")).toContain("HOOKS_API_KEYS");
    expect(logged.join("\n")).not.toContain("short-secret");
  });
});
