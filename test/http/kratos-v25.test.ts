// What Kratos v25.4 and v26.2 give the hooks (the trigger id, the session on settings, the
// identity's external_id), typed for policies, and the same calls as Kratos v1.3.1 makes them,
// without any of it. Driven through app.request() with a policy of your own that records what it saw.
import { describe, expect, it } from "vitest";
import type { HookInput } from "../../src/core/decision.js";
import { definePolicy, patchExternalId, proceed } from "../../src/core/define-policy.js";
import { builtInPolicies, type Decision, type HookId, type PolicyContext, parseConfig } from "../../src/index.js";
import { type AnyJSON, bodyOf, createTestApp, loadFixture, registration } from "../support/helpers.js";
import { V26_EXAMPLE_SESSION } from "../support/v26-session.js";

const TRIGGER = "6f1c2b8e-3d4a-4f5b-9c7d-8e9fa0b1c2d3";

/** An app whose only policy records each call's input and context, and decides as told. */
function recording(decide: (input: HookInput) => Decision = () => proceed(), hooks: HookId[] = ["registration-after", "settings-after"]) {
  const seen: { input: HookInput; context: PolicyContext }[] = [];
  const spy = definePolicy({
    name: "spy",
    hooks,
    decide(input, context) {
      seen.push({ input, context });
      context.logger.info({ n: seen.length }, "spy saw a call");
      return decide(input);
    },
  });
  return { seen, ...createTestApp({ policies: [spy] }) };
}

const v26Settings = () => loadFixture("settings-after.profile-v26-session") as AnyJSON;
const v131Settings = () => loadFixture("settings-after.profile-unchanged") as AnyJSON;

describe("Ory-Webhook-Trigger-ID (Kratos v25.4+): one id per hook execution, on the log line and in the policy context", () => {
  it("is the same on each of Kratos's attempts while the request id differs, on the hook call line, the policy's own line and its context", async () => {
    const app = recording();
    for (const requestId of ["attempt-1", "attempt-2"]) {
      const res = await app.call("registration-after", registration({ email: "jane@example.com" }), {
        headers: { "ory-webhook-trigger-id": TRIGGER, "ory-webhook-request-id": requestId },
      });
      expect(res.status).toBe(204);
    }
    expect(app.seen.map((s) => s.context.triggerId)).toEqual([TRIGGER, TRIGGER]);
    const calls = app.logs().filter((l) => l.msg === "hook call");
    expect(calls.map((l) => [l.requestId, l.triggerId])).toEqual([
      ["attempt-1", TRIGGER],
      ["attempt-2", TRIGGER],
    ]);
    const own = app.logs().filter((l) => l.msg === "spy saw a call");
    expect(own.map((l) => [l.hook, l.requestId, l.triggerId])).toEqual([
      ["registration-after", "attempt-1", TRIGGER],
      ["registration-after", "attempt-2", TRIGGER],
    ]);
  });

  it("is undefined, and off the log line, when Kratos sends none (v1.3.1, emit_analytics_event: false)", async () => {
    const app = recording();
    await app.call("registration-after", registration({ email: "jane@example.com" }));
    expect(app.seen[0]?.context).toHaveProperty("triggerId", undefined);
    expect(app.logs().find((l) => l.msg === "hook call")).not.toHaveProperty("triggerId");
  });

  it.each([
    ["65 characters", "a".repeat(65)],
    ["a dot", "trigger.id"],
    ["an underscore", "trigger_id"],
    ["markup", "<script>alert(1)</script>"],
    ["white space inside", "abc def"],
    ["an email", "jane@example.com"],
  ])("a malformed one (%s) is dropped: neither logged nor handed to a policy", async (_title, sent) => {
    const app = recording();
    const res = await app.call("registration-after", registration({ email: "sam@example.org" }), {
      headers: { "ory-webhook-trigger-id": sent },
    });
    expect(res.status).toBe(204);
    expect(app.seen[0]?.context.triggerId).toBeUndefined();
    expect(app.rawLogs()).not.toContain(sent);
  });

  it("a short token of letters, digits and hyphens, up to 64, is kept as sent", async () => {
    const app = recording();
    const longest = `${"A1-".repeat(21)}z`;
    for (const sent of ["abc", TRIGGER.toUpperCase(), longest]) {
      await app.call("registration-after", registration({ email: "sam@example.org" }), { headers: { "ory-webhook-trigger-id": sent } });
    }
    expect(longest).toHaveLength(64);
    expect(app.seen.map((s) => s.context.triggerId)).toEqual(["abc", TRIGGER.toUpperCase(), longest]);
  });
});

describe("the session in settings-after (Kratos v26.2+), typed for policies", () => {
  it("reaches a policy as id, assurance level, times as Dates and methods, from the v26.2 example", async () => {
    const app = recording();
    expect((await app.call("settings-after", v26Settings())).status).toBe(204);
    expect(app.seen[0]?.input.session).toEqual(V26_EXAMPLE_SESSION);
  });

  it("is undefined on Kratos v1.3.1, which sends no session; the call is answered as before", async () => {
    const app = recording();
    expect((await app.call("settings-after", v131Settings())).status).toBe(204);
    expect(app.seen[0]?.input.session).toBeUndefined();
  });

  it("keeps nothing of the session but what SessionView names (no devices, token or identity)", async () => {
    const app = recording();
    const body = v26Settings();
    body.session.tokenized = "eyJhbGciOiJFUzI1NiJ9.secret-session-jwt.sig";
    await app.call("settings-after", body);
    expect(Object.keys(app.seen[0]?.input.session ?? {}).sort()).toEqual([
      "authenticatedAt",
      "authenticationMethods",
      "authenticatorAssuranceLevel",
      "id",
    ]);
    expect(app.rawLogs()).not.toContain("secret-session-jwt");
    expect(app.rawLogs()).not.toContain("203.0.113.7");
  });

  it("reads null authentication_methods (an unset Go slice) as none, and time offsets as instants", async () => {
    const app = recording();
    const body = v26Settings();
    body.session.authentication_methods = null;
    body.session.authenticated_at = "2026-07-29T11:41:05+02:00";
    await app.call("settings-after", body);
    expect(app.seen[0]?.input.session).toMatchObject({ authenticationMethods: [], authenticatedAt: new Date("2026-07-29T09:41:05Z") });
  });

  it("reads a session Kratos migrated from v0.6 (a method without aal or completion time) without refusing it", async () => {
    const app = recording();
    const body = v26Settings();
    body.session.authentication_methods = [{ method: "v0.6_legacy_session", aal: "", completed_at: "0001-01-01T00:00:00Z" }];
    expect((await app.call("settings-after", body)).status).toBe(204);
    expect(app.seen[0]?.input.session?.authenticationMethods).toEqual([
      { method: "v0.6_legacy_session", aal: undefined, completedAt: new Date("0001-01-01T00:00:00Z") },
    ]);
  });

  it.each([
    [
      "an unknown assurance level",
      (s: AnyJSON) => Object.assign(s, { authenticator_assurance_level: "aal9" }),
      "session.authenticator_assurance_level",
    ],
    ["a time that is not RFC 3339", (s: AnyJSON) => Object.assign(s, { authenticated_at: "yesterday" }), "session.authenticated_at"],
    ["no id", (s: AnyJSON) => Object.assign(s, { id: undefined }), "session.id"],
    [
      "methods not a list",
      (s: AnyJSON) => Object.assign(s, { authentication_methods: { method: "password" } }),
      "session.authentication_methods",
    ],
    ["a session that is a string", () => "ory_st_secret-token-value", "session"],
  ])("a malformed session (%s) is a 400 naming the path, never the value, never a 500", async (_title, change, path) => {
    const app = recording();
    const body = v26Settings();
    body.session = change(body.session);
    const res = await app.call("settings-after", body);
    expect(res.status).toBe(400);
    const json = await bodyOf(res);
    expect(json.error).toMatchObject({ code: "invalid_payload", path });
    expect(JSON.stringify(json)).not.toMatch(/aal9|yesterday|secret-token/);
    expect(app.seen).toEqual([]);
  });
});

describe("identity.external_id (Kratos v25.4+): read, and patched where Kratos saves it", () => {
  it("is read from the body: the v26.2 example's value; null when absent (v1.3.1, or none) or empty", async () => {
    const app = recording();
    await app.call("settings-after", v26Settings());
    await app.call("settings-after", v131Settings());
    const empty = v26Settings();
    empty.identity.external_id = "";
    await app.call("settings-after", empty);
    expect(app.seen.map((s) => s.input.identity?.externalId)).toEqual(["crm-000123", null, null]);
  });

  it("patchExternalId sets it on registration-after: 200 with external_id alone", async () => {
    const app = recording(() => patchExternalId("crm-42"));
    const res = await app.call("registration-after", registration({ email: "jane@example.com" }));
    expect(res.status).toBe(200);
    expect(await bodyOf(res)).toEqual({ identity: { external_id: "crm-42" } });
    expect(app.logs().find((l) => l.msg === "hook call")).toMatchObject({ decision: "patch", changes: ["external_id"] });
  });

  it("patchExternalId(null) removes the one the identity has on settings-after: external_id null, which Kratos v25.4+ applies", async () => {
    const app = recording(() => patchExternalId(null));
    const res = await app.call("settings-after", v26Settings());
    expect(res.status).toBe(200);
    expect(await bodyOf(res)).toEqual({ identity: { external_id: null } });
  });

  it.each([
    ["removing one the identity does not have", null, v131Settings],
    ["setting the value it has", "crm-000123", v26Settings],
  ])("a change that changes nothing (%s) is a 204", async (_title, value, body) => {
    const app = recording(() => patchExternalId(value));
    expect((await app.call("settings-after", body())).status).toBe(204);
  });

  it("goes beside the built-in policies' changes in one answer", async () => {
    const linker = definePolicy({ name: "linker", hooks: ["registration-after"], decide: () => patchExternalId("crm-7") });
    const app = createTestApp({ policies: [...builtInPolicies(parseConfig({})), linker] });
    const res = await app.call("registration-after", registration({ phone: "+49 176 12345678" }));
    expect(await bodyOf(res)).toEqual({ identity: { schema_id: "phone", traits: { phone: "+4917612345678" }, external_id: "crm-7" } });
  });

  it.each([
    ["64 characters", "x".repeat(64)],
    ["64 characters, some outside the BMP (Kratos counts characters)", "😀".repeat(64)],
  ])("accepts an external id of %s", async (_title, value) => {
    const app = recording(() => patchExternalId(value));
    const res = await app.call("registration-after", registration({ email: "jane@example.com" }));
    expect(await bodyOf(res)).toEqual({ identity: { external_id: value } });
  });

  it.each([
    ["an empty string (Kratos stores it as none: say null)", ""],
    ["65 characters (Kratos's column holds 64)", "x".repeat(65)],
    ["a number", 42],
    ["undefined given explicitly", undefined],
  ])("a policy patching %s is a policy failure: 422 HOOK_FAILED (fail-closed), logged with the policy's name", async (_title, value) => {
    const app = recording(() => ({ kind: "patch", identity: { externalId: value as string } }));
    const res = await app.call("registration-after", registration({ email: "jane@example.com" }));
    expect(res.status).toBe(422);
    expect((await bodyOf(res)).messages).toEqual([
      { instance_ptr: "#/", messages: [{ id: 4100902, text: expect.any(String), type: "error", context: { reason: "error" } }] },
    ]);
    const line = app.logs().find((l) => l.msg === "policy failed") as { policy?: string; failure?: string } | undefined;
    expect(line?.policy).toBe("spy");
    expect(line?.failure).toContain("policy spy on registration-after: patch: externalId must be a string of 1 to 64 characters");
  });

  it("login-after cannot set it (Kratos never saves a login-after change): 422 HOOK_FAILED (fail-closed), never an identity", async () => {
    const app = recording(() => patchExternalId("crm-1"), ["login-after"]);
    const res = await app.call("login-after", loadFixture("login-after.password"));
    expect(res.status).toBe(422);
    expect(await bodyOf(res)).toEqual({
      messages: [
        { instance_ptr: "#/", messages: [{ id: 4100902, text: expect.any(String), type: "error", context: { reason: "error" } }] },
      ],
    });
    expect(app.logs().find((l) => l.msg === "policy failed")).toMatchObject({ policy: "spy", status: 422 });
  });
});
