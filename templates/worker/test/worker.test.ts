import { env, exports } from "cloudflare:workers";
import { callHook, hookCtx } from "kratos-hooks/testing";
import { describe, expect, it, vi } from "vitest";

// The Worker as it deploys: each call goes through its default export (src/worker.ts) inside
// workerd, with the bindings of vitest.config.ts, and is read as Kratos would read the answer.

// The Worker logs one JSON line per call; keep the test output quiet.
vi.spyOn(console, "log").mockImplementation(() => {});

/** The Worker's default export, as it is deployed. */
const worker = exports.default;

describe("the Worker", () => {
  it("tags a new identity on registration-after", async () => {
    const ctx = hookCtx("registration-after", { traits: { email: "a@example.com" } });
    const verdict = await callHook(worker, ctx, { apiKey: env.HOOKS_API_KEYS });
    expect(verdict.kind, verdict.explanation).toBe("save");
    expect(verdict.identity?.metadata_public).toMatchObject({ signup_source: "my-app" });
  });

  it("refuses a key it does not know (401): Kratos fails the flow", async () => {
    const verdict = await callHook(worker, hookCtx("registration-after"), { apiKey: "not-the-right-key-0123456789" });
    expect(verdict.status).toBe(401);
    expect(verdict.kind).toBe("fail");
  });
});
