import { describe, expect, it } from "vitest";
import { MESSAGES } from "../../src/core/messages.js";
import { bodyOf, createTestApp, fixtureNames, loadFixture } from "../helpers.js";

/** What the default configuration (a fresh `npm start`) answers for each shipped fixture. */
const EXPECTED: Record<string, { status: number; identity?: unknown; messageIds?: number[] }> = {
  "login-after.blocked-account": { status: 204 },
  "login-after.password": { status: 204 },
  "login-after.phone": { status: 204 },
  "login-before.browser": { status: 204 },
  "registration-after.code-sms-v26": { status: 204 },
  "registration-after.disposable-email": { status: 422, messageIds: [MESSAGES.EMAIL_DOMAIN_DISPOSABLE.id] },
  "registration-after.email-and-phone": {
    status: 200,
    identity: { schema_id: "email", traits: { email: "marie.curie@example.fr", phone: "+33612345678" } },
  },
  "registration-after.password-email": { status: 200, identity: { schema_id: "email" } },
  "registration-after.password-phone-e164": { status: 200, identity: { schema_id: "phone" } },
  "registration-after.password-phone-national": { status: 200, identity: { schema_id: "phone", traits: { phone: "+4917612345678" } } },
  "registration-after.phone-extension": { status: 422, messageIds: [MESSAGES.PHONE_EXTENSION_NOT_SUPPORTED.id] },
  "registration-after.phone-fullwidth": { status: 200, identity: { schema_id: "phone", traits: { phone: "+819012345678" } } },
  "registration-after.phone-invalid": { status: 422, messageIds: [MESSAGES.PHONE_INVALID.id] },
  "registration-after.phone-no-region": { status: 422, messageIds: [MESSAGES.PHONE_NEEDS_INTERNATIONAL_FORMAT.id] },
  "registration-before.api-script": { status: 204 },
  "registration-before.browser": { status: 204 },
  "settings-after.email-to-disposable": { status: 422, messageIds: [MESSAGES.EMAIL_DOMAIN_DISPOSABLE.id] },
  "settings-after.profile-phone-changed": { status: 200, identity: { traits: { phone: "+4917612345678" } } },
  "settings-after.profile-unchanged": { status: 204 },
};

describe("fixtures under the default configuration", () => {
  it("every fixture has an expectation, and there are at least 15", () => {
    expect(fixtureNames()).toEqual(Object.keys(EXPECTED).sort());
    expect(fixtureNames().length).toBeGreaterThanOrEqual(15);
  });

  it.each(fixtureNames())("%s", async (name) => {
    const hook = name.split(".")[0] ?? "";
    const expected = EXPECTED[name];
    const res = await createTestApp().call(hook, loadFixture(name));
    expect(res.status).toBe(expected?.status);
    if (res.status === 200) expect(await bodyOf(res)).toEqual({ identity: expected?.identity });
    if (res.status === 422) {
      const body = await bodyOf(res);
      expect(body.messages.flatMap((m: { messages: { id: number }[] }) => m.messages.map((x) => x.id))).toEqual(expected?.messageIds);
    }
  });
});
