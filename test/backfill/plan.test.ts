import { describe, expect, it } from "vitest";
import { matches, patchFor, phonesOf, planIdentity, type StoredIdentity } from "../../src/backfill/plan.js";
import { parseConfig } from "../../src/config/parse.js";
import { createPolicies } from "../../src/core/policies/index.js";

const policies = (config: unknown = { normalizePhone: { defaultRegion: "DE" } }) => createPolicies(parseConfig(config, "test"));
const stored = (traits: Record<string, unknown>, rest: Partial<StoredIdentity> = {}): StoredIdentity => ({
  id: "00000000-0000-4000-8000-000000000001",
  schema_id: "default",
  traits,
  metadata_public: null,
  ...rest,
});

describe("planIdentity: the hook's own decision on a stored identity", () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>, object]>([
    [
      "a typed phone on the entry schema",
      { phone: "0176 1234 5678" },
      {},
      { kind: "change", result: { schemaId: "phone", traits: { phone: "+4917612345678" } } },
    ],
    [
      "email only: routed, traits as they are",
      { email: "a@example.org" },
      {},
      { kind: "change", result: { schemaId: "email", traits: { email: "a@example.org" } } },
    ],
    ["already routed and E.164", { phone: "+4917612345678" }, { schema_id: "phone" }, { kind: "unchanged" }],
    ["no number", { phone: "0176 12" }, {}, { kind: "invalid", key: "PHONE_INVALID", field: "traits.phone" }],
    ["a disposable domain", { email: "a@mailinator.com" }, {}, { kind: "denied", key: "EMAIL_DOMAIN_DISPOSABLE", field: "traits.email" }],
  ])("%s", async (_, traits, rest, expected) => {
    expect(await planIdentity(stored(traits, rest), policies())).toMatchObject(expected);
  });

  it("without a region, a national number is invalid with the reason region_required", async () => {
    expect(await planIdentity(stored({ phone: "0176 1234 5678" }), policies({}))).toMatchObject({
      kind: "invalid",
      key: "PHONE_NEEDS_INTERNATIONAL_FORMAT",
      context: { reason: "region_required" },
    });
  });

  it("tells an invalid number from a refusal by the message's category, never by its key's spelling", async () => {
    // PHONE_COUNTRY_DENIED is a phone message: the number itself cannot be used ("invalid").
    const denyFR = { normalizePhone: { defaultRegion: "DE", deniedCountries: ["FR"] } };
    expect(await planIdentity(stored({ phone: "+33612345678" }), policies(denyFR))).toMatchObject({
      kind: "invalid",
      key: "PHONE_COUNTRY_DENIED",
    });
    // A policy of your own whose key starts like ours, with its own id: a refusal, "denied".
    const mine = {
      name: "mine",
      hooks: new Set(["registration-after" as const]),
      decide: () => ({
        kind: "deny" as const,
        messages: [{ key: "PHONE_BLOCKLISTED", id: 4190007, text: "Blocked.", pointer: "#/traits/phone", context: {} }],
      }),
    };
    expect(await planIdentity(stored({ phone: "+4917612345678" }, { schema_id: "phone" }), [mine])).toEqual({
      kind: "denied",
      key: "PHONE_BLOCKLISTED",
      field: "traits.phone",
    });
  });

  it("never drops a trait holding data: a result without it is reported, a blank one may go", async () => {
    const config = { normalizePhone: { defaultRegion: "DE" }, routeSchema: { rules: [{ when: {}, schema: "phone" }] } };
    expect(await planIdentity(stored({ email: "a@example.org", phone: "0176 1234 5678" }), policies(config))).toEqual({
      kind: "drops",
      traits: ["email"],
    });
    expect(await planIdentity(stored({ email: " ", phone: "0176 1234 5678" }), policies(config))).toMatchObject({ kind: "change" });
  });
});

describe("patchFor: replace operations that lose nothing", () => {
  it("the phone alone, and its SMS addresses in the same PATCH, so verified stays verified", () => {
    const identity = stored(
      { phone: "+49 176 1234 5678" },
      {
        schema_id: "phone",
        verifiable_addresses: [
          { value: "+49 176 1234 5678", via: "sms" },
          { value: "other@example.org", via: "email" },
        ],
        recovery_addresses: [{ value: "+49 176 1234 5678", via: "sms" }],
      },
    );
    const result = { schemaId: "phone", traits: { phone: "+4917612345678" }, metadataPublic: null };
    expect(patchFor(identity, result, ["phone"])).toEqual([
      { op: "replace", path: "/traits/phone", value: "+4917612345678" },
      { op: "replace", path: "/verifiable_addresses/0/value", value: "+4917612345678" },
      { op: "replace", path: "/recovery_addresses/0/value", value: "+4917612345678" },
    ]);
  });

  it("routing: schema_id and metadata_public, a nested phone path escaped as a JSON Pointer", () => {
    const identity = stored({ "contact/x": { mobile: "0176 1234 5678" } }, { metadata_public: { a: 1 } });
    const result = { schemaId: "phone", traits: { "contact/x": { mobile: "+4917612345678" } }, metadataPublic: { a: 1, tag: "x" } };
    expect(patchFor(identity, result, ["contact/x.mobile"])).toEqual([
      { op: "replace", path: "/traits/contact~1x/mobile", value: "+4917612345678" },
      { op: "replace", path: "/schema_id", value: "phone" },
      { op: "replace", path: "/metadata_public", value: { a: 1, tag: "x" } },
    ]);
  });

  it("a blank trait routing removes: the traits are replaced whole (Kratos validates them against the new schema)", () => {
    const identity = stored({ email: "", phone: "0176 1234 5678" });
    const result = { schemaId: "phone", traits: { phone: "+4917612345678" }, metadataPublic: null };
    expect(patchFor(identity, result, ["phone"])).toEqual([
      { op: "replace", path: "/traits", value: { phone: "+4917612345678" } },
      { op: "replace", path: "/schema_id", value: "phone" },
    ]);
  });

  it("matches: an identity already as planned (a write of ours that committed)", () => {
    const result = { schemaId: "phone", traits: { phone: "+4917612345678" }, metadataPublic: null };
    expect(matches(stored({ phone: "+4917612345678" }, { schema_id: "phone" }), result)).toBe(true);
    expect(matches(stored({ phone: "0176 1234 5678" }, { schema_id: "phone" }), result)).toBe(false);
    expect(matches(stored({ phone: "+4917612345678" }), result)).toBe(false);
  });
});

describe("phonesOf: what collisions are grouped by", () => {
  it("each configured phone that normalizes, E.164 ones included, once", () => {
    const region = { region: "DE" as const };
    expect(phonesOf(stored({ phone: "0176 1234 5678", alt: "+4917612345678", bad: "12" }), ["phone", "alt", "bad"], region)).toEqual([
      "+4917612345678",
    ]);
    expect(phonesOf(stored({ phone: "0176 1234 5678" }), ["phone"], {})).toEqual([]);
  });
});

describe("planIdentity: the field a denial is reported on", () => {
  const denyAt = (pointer: string) => ({
    name: "mine",
    hooks: new Set(["registration-after" as const]),
    decide: () => ({ kind: "deny" as const, messages: [{ key: "MINE", id: 4190008, text: "No.", pointer, context: {} }] }),
  });

  it.each([
    ["#/traits/contact/mobile", "traits.contact.mobile"],
    ["#/traits/a~1b~0c", "traits.a/b~c"],
    ["#/", "(global)"],
    // Kratos is answered on the global pointer for anything not starting with `#/` (kratos/response.ts).
    ["/traits/phone", "(global)"],
    ["phone", "(global)"],
  ])("%j → %j", async (pointer, field) => {
    expect(await planIdentity(stored({ phone: "+4917612345678" }, { schema_id: "phone" }), [denyAt(pointer)])).toEqual({
      kind: "denied",
      key: "MINE",
      field,
    });
  });
});
