// kratos-hooks/testing inside workerd (no nodejs_compat): the examples are embedded, not read
// from disk, and a policy runs through the real app as on Node (test/library/testing.test.ts).
import { describe, expect, it, vi } from "vitest";
import { defineMessage, definePolicy, denyField, PolicyBugError, patchMetadataPublic, proceed } from "../../src/index.js";
import { callHook, exampleCtx, exampleNames, hookCtx, runPolicy } from "../../src/testing.js";
import { createWorker } from "../../src/worker.js";

const INVITE_REQUIRED = defineMessage({ key: "INVITE_REQUIRED", id: 4_190_001, text: "Sign-up is by invitation only." });
const inviteOnly = definePolicy({
  name: "invite-only",
  hooks: ["registration-after"],
  decide: (input) =>
    input.identity.traits.email === "invited@example.com"
      ? patchMetadataPublic(input, { invited: true })
      : denyField("email", INVITE_REQUIRED),
});

// The Worker's own "hook call" lines (console JSON).
vi.spyOn(console, "log").mockImplementation(() => {});

describe("kratos-hooks/testing in workerd", () => {
  it("builds every shipped example", () => {
    expect(exampleNames().length).toBeGreaterThanOrEqual(20);
    for (const name of exampleNames()) expect(exampleCtx(name).flow, name).toBeTypeOf("object");
  });

  it("runs a policy after the built-in ones and reads the answer as Kratos does", async () => {
    const refused = await runPolicy(inviteOnly, "registration-after", { traits: { email: "stranger@example.com" } });
    expect(refused.messages).toEqual([{ field: "traits.email", id: 4_190_001, text: "Sign-up is by invitation only." }]);
    const ctx = hookCtx("registration-after", { traits: { email: "invited@example.com", phone: "0176 12345678" } });
    const saved = await runPolicy(inviteOnly, ctx, { withBuiltIns: true });
    expect(saved.kind, saved.explanation).toBe("save");
    expect(saved.identity).toMatchObject({
      schema_id: "email",
      traits: { email: "invited@example.com", phone: "+4917612345678" },
      metadata_public: { invited: true },
    });
  });

  it("a policy that crashes makes runPolicy throw, unless the failure is expected", async () => {
    const typo = definePolicy({
      name: "typo",
      hooks: ["registration-after"],
      decide: (input) => ((input.identity.traits.emial as string).toLowerCase() === "" ? proceed() : proceed()),
    });
    await expect(runPolicy(typo, "registration-after", {})).rejects.toThrow(PolicyBugError);
    const verdict = await runPolicy(typo, "registration-after", {}, { expectFailure: true });
    expect(verdict).toMatchObject({ kind: "refuse", failure: { policy: "typo" } });
  });

  it("calls a Worker's fetch handler", async () => {
    const worker = createWorker({ policies: () => [definePolicy({ name: "open", hooks: ["login-after"], decide: () => proceed() })] });
    const env = { HOOKS_API_KEYS: "worker-testing-key-0123456789" };
    const verdict = await callHook((request) => worker.fetch(request, env), exampleCtx("login-after.password"), {
      apiKey: "worker-testing-key-0123456789",
    });
    expect(verdict).toMatchObject({ kind: "continue", status: 204 });
  });
});
