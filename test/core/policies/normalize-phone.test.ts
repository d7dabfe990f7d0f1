import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/config/parse.js";
import type { HookInput } from "../../../src/core/decision.js";
import { MESSAGES, type MessageKey } from "../../../src/core/messages.js";
import { createNormalizePhone } from "../../../src/core/policies/normalize-phone.js";
import { policyContext } from "../../support/policy-context.js";

type Where = { region?: string; header?: string; defaultRegion?: string };

function run(phone: unknown, where: Where = {}, options: Record<string, unknown> = {}) {
  const config = parseConfig(
    { normalizePhone: { regionHeader: "Cf-Ipcountry", defaultRegion: where.defaultRegion ?? null, ...options } },
    "test",
  );
  const input: HookInput = {
    hook: "registration-after",
    transientPayload: where.region === undefined ? undefined : { phone_region: where.region },
    requestedSchemaId: undefined,
    headers: new Map(where.header === undefined ? [] : [["cf-ipcountry", [where.header]]]),
    identity: { schemaId: "default", traits: { phone }, metadataPublic: null },
  };
  return createNormalizePhone(config.normalizePhone).decide(input, policyContext());
}

/** What the policy produced: the E.164 written back, "unchanged", or the denial's message id. */
async function outcome(phone: unknown, where?: Where, options?: Record<string, unknown>): Promise<string | number> {
  const decision = await run(phone, where, options);
  if (decision.kind === "continue") return "unchanged";
  if (decision.kind === "patch") return String(decision.identity.traits?.phone);
  const [message] = decision.messages;
  expect(message?.pointer).toBe("#/traits/phone");
  return MESSAGES[message?.key as MessageKey].id;
}

const INVALID = MESSAGES.PHONE_INVALID.id;
const INTERNATIONAL = MESSAGES.PHONE_NEEDS_INTERNATIONAL_FORMAT.id;
const EXTENSION = MESSAGES.PHONE_EXTENSION_NOT_SUPPORTED.id;
const REGION_UNKNOWN = MESSAGES.PHONE_REGION_UNKNOWN.id;

describe("normalizePhone: the phone table", () => {
  it.each<[string, string, Where, string | number]>([
    // Germany
    ["DE international with spaces", "+49 176 12345678", {}, "+4917612345678"],
    ["DE national with trunk prefix, region from the picker", "0176 12345678", { region: "DE" }, "+4917612345678"],
    ["DE 00 international prefix", "0049 176 12345678", {}, "+4917612345678"],
    ["DE (0) trunk written after the country code", "+49 (0)176 1234-5678", {}, "+4917612345678"],
    ["DE landline with slash", "030/1234567", { region: "de" }, "+49301234567"],
    ["DE already E.164 is left alone", "+4917612345678", {}, "unchanged"],
    ["DE too short", "+49 123", {}, INVALID],
    ["DE national without any region", "0176 12345678", {}, INTERNATIONAL],
    // United States
    ["US dashes and parentheses", "+1 (415) 555-2671", {}, "+14155552671"],
    ["US national, region from header", "(415) 555-2671", { header: "US" }, "+14155552671"],
    ["US dots", "+1.415.555.2671", {}, "+14155552671"],
    ["US tel: URI", "tel:+1-415-555-2671", {}, "+14155552671"],
    ["US 555 fictional range is invalid", "+1 555 555 5555", {}, INVALID],
    ["US extension with ext.", "+1 415 555 2671 ext. 12", {}, EXTENSION],
    ["US extension with x", "+1 415 555 2671 x12", {}, EXTENSION],
    ["US extension in a tel: URI", "tel:+1-415-555-2671;ext=12", {}, EXTENSION],
    ["US vanity letters are refused", "+1 800 FLOWERS", {}, INVALID],
    // United Kingdom
    ["GB mobile", "+44 7911 123456", {}, "+447911123456"],
    ["GB national, default region", "07911 123456", { defaultRegion: "GB" }, "+447911123456"],
    ["GB London landline", "+44 20 7946 0958", {}, "+442079460958"],
    ["GB one digit too many", "+44 7911 1234567", {}, INVALID],
    // France
    ["FR mobile with dots", "06.12.34.56.78", { region: "FR" }, "+33612345678"],
    ["FR 00 prefix", "0033 6 12 34 56 78", {}, "+33612345678"],
    ["FR tel: URI with phone-context", "tel:06-12-34-56-78;phone-context=+33", {}, "+33612345678"],
    // Japan
    ["JP full-width digits and plus", "＋８１ ９０-１２３４-５６７８", {}, "+819012345678"],
    ["JP national with region", "090-1234-5678", { region: "JP" }, "+819012345678"],
    // India
    ["IN mobile", "+91 98765 43210", {}, "+919876543210"],
    ["IN Devanagari digits", "+९१ ९८७६५ ४३२१०", {}, "+919876543210"],
    // Egypt
    ["EG Arabic-Indic digits", "+٢٠ ١٠٠ ١٢٣ ٤٥٦٧", {}, "+201001234567"],
    ["EG national with region", "0100 123 4567", { region: "EG" }, "+201001234567"],
    // Brazil
    ["BR mobile", "+55 11 91234-5678", {}, "+5511912345678"],
    ["BR national with region", "(11) 91234-5678", { region: "BR" }, "+5511912345678"],
    // Australia
    ["AU mobile", "+61 412 345 678", {}, "+61412345678"],
    ["AU national with region", "0412 345 678", { region: "AU" }, "+61412345678"],
    // Malaysia (Kratos's own example: trunk prefix after the country code is dropped)
    ["MY trunk prefix after country code", "+600136866982", {}, "+60136866982"],
    // Region handling
    ["picker wins over header", "0176 12345678", { region: "DE", header: "US" }, "+4917612345678"],
    ["header wins over default", "(415) 555-2671", { header: "US", defaultRegion: "DE" }, "+14155552671"],
    ["Cloudflare XX (unknown) falls through to the default", "0412 345 678", { header: "XX", defaultRegion: "AU" }, "+61412345678"],
    ["Cloudflare T1 (Tor) without a default", "0412 345 678", { header: "T1" }, INTERNATIONAL],
    ["unknown picker value", "0176 12345678", { region: "Germany" }, REGION_UNKNOWN],
    ["unknown picker value is irrelevant for an international number", "+4917612345678", { region: "ZZ" }, "unchanged"],
    // Shapes
    ["surrounding white space", "  +49 176 12345678 \n", {}, "+4917612345678"],
    ["no-break spaces", "+49\u00a0176\u00a012345678", {}, "+4917612345678"],
    ["letters", "call me", {}, INVALID],
    ["lone plus", "+", {}, INVALID],
  ])("%s: %j", async (_title, phone, where, expected) => {
    expect(await outcome(phone, where)).toBe(expected);
  });
});

describe("normalizePhone: options", () => {
  it.each<[string, string, Record<string, unknown>, string | number]>([
    ["allowedTypes accepts a mobile", "+49 176 12345678", { allowedTypes: ["MOBILE"] }, "+4917612345678"],
    ["allowedTypes refuses a landline", "+49 30 1234567", { allowedTypes: ["MOBILE"] }, MESSAGES.PHONE_TYPE_NOT_ALLOWED.id],
    ["US numbers are FIXED_LINE_OR_MOBILE", "+1 415 555 2671", { allowedTypes: ["MOBILE"] }, MESSAGES.PHONE_TYPE_NOT_ALLOWED.id],
    [
      "US mobile accepted once FIXED_LINE_OR_MOBILE is allowed",
      "+1 415 555 2671",
      { allowedTypes: ["MOBILE", "FIXED_LINE_OR_MOBILE"] },
      "+14155552671",
    ],
    ["allowedCountries accepts a listed country", "+33 6 12 34 56 78", { allowedCountries: ["FR", "DE"] }, "+33612345678"],
    ["allowedCountries refuses others", "+44 7911 123456", { allowedCountries: ["FR", "DE"] }, MESSAGES.PHONE_COUNTRY_NOT_ALLOWED.id],
    [
      "allowedCountries refuses non-geographic numbers",
      "+800 1234 5678",
      { allowedCountries: ["FR"] },
      MESSAGES.PHONE_COUNTRY_NOT_ALLOWED.id,
    ],
    ["deniedCountries refuses a listed country", "+7 912 345-67-89", { deniedCountries: ["RU"] }, MESSAGES.PHONE_COUNTRY_DENIED.id],
    ["deniedCountries lets others through", "+86 138 0013 8000", { deniedCountries: ["RU"] }, "+8613800138000"],
  ])("%s", async (_title, phone, options, expected) => {
    expect(await outcome(phone, {}, options)).toBe(expected);
  });

  it("reports the refused type and country in the message context", async () => {
    const decision = await run("+49 30 1234567", {}, { allowedTypes: ["MOBILE"] });
    expect(decision).toEqual({
      kind: "deny",
      messages: [
        {
          key: "PHONE_TYPE_NOT_ALLOWED",
          pointer: "#/traits/phone",
          context: { reason: "type_not_allowed", type: "FIXED_LINE", allowed: ["MOBILE"] },
        },
      ],
    });
  });

  it("leaves missing, null and blank phone traits to the identity schema", async () => {
    for (const phone of [undefined, null, "", "   "]) expect(await outcome(phone)).toBe("unchanged");
  });

  it("refuses a phone trait that is not a string", async () => {
    expect(await outcome(4917612345678)).toBe(INVALID);
  });

  it("normalises every configured field, nested ones included, and reports each bad one", async () => {
    const config = parseConfig({ normalizePhone: { fields: ["phone", "contact.mobile", "fax"] } }, "test");
    const decision = await createNormalizePhone(config.normalizePhone).decide(
      {
        hook: "settings-after",
        transientPayload: undefined,
        requestedSchemaId: undefined,
        headers: new Map(),
        identity: { schemaId: "x", traits: { phone: "+49 176 12345678", contact: { mobile: "+33 6 12 34 56 78" } }, metadataPublic: null },
      },
      policyContext(),
    );
    expect(decision).toEqual({
      kind: "patch",
      identity: { traits: { phone: "+4917612345678", contact: { mobile: "+33612345678" } } },
    });
    const denied = await createNormalizePhone(config.normalizePhone).decide(
      {
        hook: "settings-after",
        transientPayload: undefined,
        requestedSchemaId: undefined,
        headers: new Map(),
        identity: {
          schemaId: "x",
          traits: { phone: "+49 1", contact: { mobile: "06 12" }, fax: "+49 176 12345678" },
          metadataPublic: null,
        },
      },
      policyContext(),
    );
    expect(denied.kind === "deny" && denied.messages.map((m) => [m.pointer, m.key])).toEqual([
      ["#/traits/phone", "PHONE_INVALID"],
      ["#/traits/contact/mobile", "PHONE_NEEDS_INTERNATIONAL_FORMAT"],
    ]);
  });
});
