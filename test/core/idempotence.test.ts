import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { planIdentity } from "../../src/backfill/plan.js";
import { parseConfig } from "../../src/config/parse.js";
import { toE164 } from "../../src/core/phone.js";
import { resolvePhoneRegion } from "../../src/core/phone-region.js";
import { createPolicies } from "../../src/core/policies/index.js";
import { phoneFieldsOf, readSubmission } from "../../src/gateway/submission.js";
import type { SelfServiceFlow } from "../../src/kratos/self-service.js";
import { type AnyJSON, createTestApp, loadFixture, registration } from "../support/helpers.js";
import { INTERNATIONAL_CORPUS } from "../support/phone-corpus.js";

// Idempotent when Kratos normalizes too (its unreleased main rewrites `+` forms to E.164 before
// hooks see them): a number already in E.164 gives no hook patch, no gateway rewrite and an empty
// backfill plan, for every valid number of the corpus; and our normalization is a fixed point.

const E164S = [...new Set(INTERNATIONAL_CORPUS.map((raw) => toE164(raw, undefined)).flatMap((r) => (r.ok ? [r.e164] : [])))];
const CONFIG = { normalizePhone: { defaultRegion: "DE" } };

describe("E.164 in, nothing to change", () => {
  it("the corpus has valid numbers to test with", () => {
    expect(E164S.length).toBeGreaterThan(30);
  });

  it.each(E164S)("%s: registration-after on the phone schema answers 204, settings-after 204", async (e164) => {
    const app = createTestApp({ config: CONFIG });
    const registered = await app.call("registration-after", registration({ phone: e164 }, {}, "phone"));
    expect(registered.status).toBe(204);
    const settings = loadFixture("settings-after.profile-phone-changed") as AnyJSON;
    const unchanged = { ...settings, identity: { ...settings.identity, traits: { ...settings.identity.traits, phone: e164 } } };
    expect((await app.call("settings-after", unchanged)).status).toBe(204);
  });

  it.each(E164S)("%s: the gateway forwards login, registration and settings bodies byte for byte", (e164) => {
    const regionOf = (picked: unknown) => resolvePhoneRegion({ picked }, { defaultRegion: "DE", regionHeader: null });
    const bodies: [SelfServiceFlow, string][] = [
      ["login", JSON.stringify({ method: "code", identifier: e164 })],
      ["registration", JSON.stringify({ method: "code", traits: { phone: e164 }, transient_payload: { phone_region: "DE" } })],
      ["settings", `method=profile&traits.phone=${encodeURIComponent(e164)}`],
    ];
    for (const [flow, text] of bodies) {
      const bytes = new TextEncoder().encode(text);
      const format = text.startsWith("{") ? "json" : "form";
      const result = readSubmission({ query: "flow=x", body: { format, bytes }, fields: phoneFieldsOf(flow, ["phone"]) }, regionOf);
      expect(result).toMatchObject({ ok: true, query: "flow=x", body: bytes, rewritten: [] });
      expect(result.ok && result.body).toBe(bytes);
    }
  });

  it.each(E164S)("%s: the backfill plans nothing for an identity stored on phone in E.164", async (e164) => {
    const identity = { id: "00000000-0000-4000-8000-000000000001", schema_id: "phone", traits: { phone: e164 }, metadata_public: null };
    expect(await planIdentity(identity, createPolicies(parseConfig(CONFIG, "test")))).toEqual({ kind: "unchanged" });
  });

  it("toE164 is a fixed point: a number it wrote reads back as itself, whatever region is given", () => {
    fc.assert(
      fc.property(fc.constantFrom(...E164S), fc.constantFrom(undefined, "DE", "US", "FR", "JP"), (e164, region) => {
        expect(toE164(e164, region)).toMatchObject({ ok: true, e164 });
      }),
    );
  });
});
