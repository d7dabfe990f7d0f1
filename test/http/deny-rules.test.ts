import { describe, expect, it } from "vitest";
import { bodyOf, createTestApp, loadFixture, registration } from "../support/helpers.js";

async function deniedWith(res: Response): Promise<[number, string, number] | number> {
  if (res.status !== 422) return res.status;
  const json = await bodyOf(res);
  return [res.status, json.messages[0].instance_ptr, json.messages[0].messages[0].id];
}

// The rules themselves are decided in test/core/policies/deny-rules.test.ts; here, what Kratos receives.
describe("denyRules over HTTP: email domains on registration and settings", () => {
  it.each<[string, Record<string, unknown>, string, [number, string, number] | number]>([
    ["disposable domain (from the maintained list)", {}, "x@mailinator.com", [422, "#/traits/email", 4100101]],
    ["ordinary domain", {}, "x@example.com", 200],
    ["disposable blocking off", { blockDisposable: false }, "x@mailinator.com", 200],
    ["denylisted domain", { denyDomains: ["example.org"] }, "x@Example.ORG", [422, "#/traits/email", 4100102]],
    ["allowlist miss", { allowDomains: ["corp.example"] }, "x@example.com", [422, "#/traits/email", 4100103]],
  ])("%s", async (_title, denyRules, email, expected) => {
    const app = createTestApp({ config: { denyRules } });
    expect(await deniedWith(await app.call("registration-after", registration({ email })))).toEqual(expected);
  });

  it("applies on settings-after too", async () => {
    const res = await createTestApp().call("settings-after", loadFixture("settings-after.email-to-disposable"));
    expect(await deniedWith(res)).toEqual([422, "#/traits/email", 4100101]);
  });

  it("is off with enabled: false", async () => {
    const app = createTestApp({ config: { denyRules: { enabled: false } } });
    expect((await app.call("registration-after", registration({ email: "x@mailinator.com" }))).status).toBe(200);
  });
});

describe("denyRules: login-after", () => {
  it("lets an ordinary login through", async () => {
    expect((await createTestApp().call("login-after", loadFixture("login-after.password"))).status).toBe(204);
  });

  it("refuses a domain denylisted after the account registered, with a global message", async () => {
    const app = createTestApp({ config: { denyRules: { denyDomains: ["example.com"] } } });
    const res = await app.call("login-after", loadFixture("login-after.password"));
    expect(await deniedWith(res)).toEqual([422, "#/", 4100201]);
  });

  it("refuses an account flagged in metadata_public", async () => {
    const app = createTestApp({ config: { denyRules: { login: { metadataPublic: [{ key: "blocked", equals: true }] } } } });
    const res = await app.call("login-after", loadFixture("login-after.blocked-account"));
    expect(res.status).toBe(422);
    expect((await bodyOf(res)).messages[0].messages[0].context).toEqual({ reason: "metadata_flag", key: "blocked" });
    expect((await app.call("login-after", loadFixture("login-after.password"))).status).toBe(204);
  });

  it("does not apply the disposable list at login (the list changes; accounts should not lock out)", async () => {
    const body = loadFixture("login-after.password") as { identity: { traits: Record<string, unknown> } };
    body.identity.traits = { email: "old@mailinator.com" };
    expect((await createTestApp().call("login-after", body)).status).toBe(204);
  });

  it("checkDeniedDomains: false keeps denylisted domains able to log in", async () => {
    const app = createTestApp({ config: { denyRules: { denyDomains: ["example.com"], login: { checkDeniedDomains: false } } } });
    expect((await app.call("login-after", loadFixture("login-after.password"))).status).toBe(204);
  });
});

describe("denyRules: before-hooks read request metadata only", () => {
  const request = (rules: Record<string, unknown>) => createTestApp({ config: { denyRules: { request: rules } } });

  it.each([
    ["registration-before", "registration-before.browser"],
    ["login-before", "login-before.browser"],
  ])("%s: a required header that is present passes", async (hook, fixture) => {
    expect((await request({ requiredHeaders: ["Accept-Language"] }).call(hook, loadFixture(fixture))).status).toBe(204);
  });

  it("a missing required header is refused with a global message", async () => {
    const res = await request({ requiredHeaders: ["Accept-Language"] }).call(
      "registration-before",
      loadFixture("registration-before.api-script"),
    );
    expect(res.status).toBe(422);
    const json = await bodyOf(res);
    expect(json).toEqual({
      messages: [
        {
          instance_ptr: "#/",
          messages: [
            {
              id: 4100202,
              text: "This request cannot be processed. Try again from a supported browser or app.",
              type: "error",
              context: { reason: "missing_header", header: "Accept-Language" },
            },
          ],
        },
      ],
    });
  });

  it("a denied User-Agent pattern is refused, case-insensitively", async () => {
    const app = request({ denyUserAgents: ["^python-requests/"] });
    const res = await app.call("login-before", {
      ...loadFixture("login-before.browser"),
      request_headers: { "user-agent": ["Python-Requests/2.32"] },
    });
    expect(await deniedWith(res)).toEqual([422, "#/", 4100202]);
    expect((await app.call("login-before", loadFixture("login-before.browser"))).status).toBe(204);
  });

  it("is off with request.enabled: false", async () => {
    const app = request({ enabled: false, requiredHeaders: ["X-Required"] });
    expect((await app.call("registration-before", loadFixture("registration-before.browser"))).status).toBe(204);
  });
});
