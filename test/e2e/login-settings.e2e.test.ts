import { describe, expect, it } from "vitest";
import { type KratosClient, newPassword, nodeMessages, passwordSignUp } from "./kratos-client.js";
import { E2E_HOOKS_CONFIG, kratosAtLeast, useStack } from "./stack.js";

// The region header is Cloudflare's country header, which kratos.yml allowlists for Kratos v25.4+.
const e2e = useStack({ ...E2E_HOOKS_CONFIG, normalizePhone: { regionHeader: "Cf-Ipcountry" } }, { gateway: true });
/** Kratos v25.4+ passes settings hooks no transient_payload, and only the allowlisted request headers. */
const V25_4 = kratosAtLeast("v25.4.0");

const direct = () => e2e.kratos;
const viaGateway = () => e2e.gateway;

/** Registers through Kratos and returns the identity id and session token. */
async function register(traits: Record<string, string>, password = newPassword(), region?: string): Promise<{ id: string; token: string }> {
  const res = await e2e.kratos.run("registration", passwordSignUp(traits, region, password));
  expect(res.status).toBe(200);
  return { id: res.body.identity?.id ?? "", token: res.body.session_token ?? "" };
}

/** Saves the profile form with a phone written nationally: in a German sign-up form, or with Cloudflare's country header. */
function saveProfile(client: KratosClient, token: string, traits: Record<string, string>, how: "form" | "header" = "form") {
  const region = how === "form" ? { transient_payload: { phone_region: "DE" } } : {};
  const headers = { "X-Session-Token": token, ...(how === "header" && { "Cf-Ipcountry": "DE" }) };
  return client.run("settings", { method: "profile", traits, ...region }, headers);
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

describe("settings through the gateway (every version)", () => {
  it("stores a phone changed to national format as E.164", async () => {
    const { id, token } = await register({ email: "settings@example.org" });
    const res = await saveProfile(viaGateway(), token, { email: "settings@example.org", phone: "0176 1234 5671" });
    expect(res.status).toBe(200);
    expect(res.body.state).toBe("success");
    const stored = (await e2e.kratos.admin.getIdentity({ id })).data;
    expect(stored.traits).toEqual({ email: "settings@example.org", phone: "+4917612345671" });
    expect(stored.schema_id).toBe("email");
  });

  it("refuses an invalid phone in settings with our message on traits.phone and keeps the stored traits", async () => {
    const { id, token } = await register({ email: "settings-invalid@example.org" });
    const res = await saveProfile(viaGateway(), token, { email: "settings-invalid@example.org", phone: "0176 12" });
    expect(res.status).toBe(400);
    expect(nodeMessages(res.body, "traits.phone")).toEqual([expect.objectContaining({ id: 4100001, type: "error" })]);
    expect((await e2e.kratos.admin.getIdentity({ id })).data.traits).toEqual({ email: "settings-invalid@example.org" });
  });
});

describe("settings straight to Kratos: where the region of a national number comes from, per version", () => {
  it("transient_payload.phone_region: v1.3.1 passes it to the hook, which stores E.164; v25.4+ does not, so the number needs its country code", async () => {
    const { id, token } = await register({ email: "settings-direct-form@example.org" });
    const res = await saveProfile(direct(), token, { email: "settings-direct-form@example.org", phone: "0176 1234 5672" });
    const traits = (await e2e.kratos.admin.getIdentity({ id })).data.traits;
    if (V25_4) {
      expect(res.status).toBe(400);
      expect(nodeMessages(res.body, "traits.phone")).toEqual([expect.objectContaining({ id: 4100002, type: "error" })]);
      expect(traits).toEqual({ email: "settings-direct-form@example.org" });
    } else {
      expect(res.status).toBe(200);
      expect(traits).toEqual({ email: "settings-direct-form@example.org", phone: "+4917612345672" });
    }
  });

  it("the region header (Cf-Ipcountry): allowlisted in kratos.yml, v25.4+ passes it to the hook, which stores E.164; v1.3.1 passes only its 17 hard-coded headers", async () => {
    const { id, token } = await register({ email: "settings-direct-header@example.org" });
    const res = await saveProfile(direct(), token, { email: "settings-direct-header@example.org", phone: "0176 1234 5673" }, "header");
    const traits = (await e2e.kratos.admin.getIdentity({ id })).data.traits;
    if (V25_4) {
      expect(res.status).toBe(200);
      expect(traits).toEqual({ email: "settings-direct-header@example.org", phone: "+4917612345673" });
    } else {
      expect(res.status).toBe(400);
      expect(nodeMessages(res.body, "traits.phone")).toEqual([expect.objectContaining({ id: 4100002, type: "error" })]);
      expect(traits).toEqual({ email: "settings-direct-header@example.org" });
    }
  });

  it("Kratos never failed to read one of our answers", () => {
    expect(e2e.stack.misreadAnswers()).toEqual([]);
  });
});
