import { describe, expect, it } from "vitest";
import { newPassword, nodeMessages, passwordSignUp } from "./kratos-client.js";
import { useStack } from "./stack.js";

const e2e = useStack();

/** Registers through Kratos and returns the identity id and session token. */
async function register(traits: Record<string, string>, password = newPassword(), region?: string): Promise<{ id: string; token: string }> {
  const res = await e2e.kratos.run("registration", passwordSignUp(traits, region, password));
  expect(res.status).toBe(200);
  return { id: res.body.identity?.id ?? "", token: res.body.session_token ?? "" };
}

/** Saves the profile form with a phone written nationally, in a German sign-up form. */
function saveProfile(token: string, traits: Record<string, string>) {
  return e2e.kratos.run("settings", { method: "profile", traits, transient_payload: { phone_region: "DE" } }, { "X-Session-Token": token });
}

describe("login through real Kratos", () => {
  it("signs in with the E.164 phone and the password: login-after lets it through", async () => {
    const password = newPassword();
    const { id } = await register({ phone: "0176 1234 5670" }, password, "DE");
    const res = await e2e.kratos.run("login", { method: "password", identifier: "+4917612345670", password });
    expect(res.status).toBe(200);
    expect(res.body.session_token).toEqual(expect.any(String));
    expect(res.body.session?.identity.id).toBe(id);
  });

  it("refuses a login our deny rule matches: no session, our global message", async () => {
    const password = newPassword();
    const { id } = await register({ email: "flagged@example.org" }, password);
    // The registration issued a session; revoke it so that any session left must be the login's.
    await e2e.kratos.admin.deleteIdentitySessions({ id });
    await e2e.kratos.admin.patchIdentity({ id, jsonPatch: [{ op: "add", path: "/metadata_public", value: { blocked: true } }] });

    const res = await e2e.kratos.run("login", { method: "password", identifier: "flagged@example.org", password });
    expect(res.status).toBe(400);
    expect(res.body.session_token).toBeUndefined();
    expect(res.body.ui?.messages).toEqual([
      expect.objectContaining({ id: 4100201, type: "error", context: { reason: "metadata_flag", key: "blocked" } }),
    ]);
    expect((await e2e.kratos.admin.listIdentitySessions({ id })).data).toEqual([]);
  });
});

describe("settings through real Kratos", () => {
  it("stores a phone changed to national format as E.164", async () => {
    const { id, token } = await register({ email: "settings@example.org" });
    const res = await saveProfile(token, { email: "settings@example.org", phone: "0176 1234 5671" });
    expect(res.status).toBe(200);
    expect(res.body.state).toBe("success");
    const stored = (await e2e.kratos.admin.getIdentity({ id })).data;
    expect(stored.traits).toEqual({ email: "settings@example.org", phone: "+4917612345671" });
    expect(stored.schema_id).toBe("email");
  });

  it("refuses an invalid phone in settings with our message on traits.phone and keeps the stored traits", async () => {
    const { id, token } = await register({ email: "settings-invalid@example.org" });
    const res = await saveProfile(token, { email: "settings-invalid@example.org", phone: "0176 12" });
    expect(res.status).toBe(400);
    expect(nodeMessages(res.body, "traits.phone")).toEqual([expect.objectContaining({ id: 4100001, type: "error" })]);
    expect((await e2e.kratos.admin.getIdentity({ id })).data.traits).toEqual({ email: "settings-invalid@example.org" });
  });

  it("Kratos never failed to read one of our answers", () => {
    expect(e2e.stack.misreadAnswers()).toEqual([]);
  });
});
