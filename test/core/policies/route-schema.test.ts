import { describe, expect, it } from "vitest";
import { BUNDLED_IDENTITY_SCHEMAS } from "../../../src/config/schema.js";
import type { Decision } from "../../../src/core/decision.js";
import { createPolicies, routeSchemaPolicy } from "../../../src/core/policies/index.js";
import { createApp } from "../../../src/http/app.js";
import { registration } from "../../support/helpers.js";
import { config, hookInput } from "../../support/hook-input.js";
import { STAFF_SCHEMA } from "../../support/identity-schemas.js";
import { policyContext } from "../../support/policy-context.js";

/** A schema that declares `email` and lets other traits through. */
const OPEN_SCHEMA = {
  type: "object",
  properties: { traits: { type: "object", properties: { email: { type: "string", format: "email" } }, required: ["email"] } },
};

type Given = Parameters<typeof hookInput>[1];

/** routeSchema's decision alone (as createPolicies wires it), with the bundled schemas plus staff and open. */
function decide(routeSchema: Record<string, unknown>, given: Given, rest: Record<string, unknown> = {}): Decision {
  const cfg = config({ identitySchemas: { ...BUNDLED_IDENTITY_SCHEMAS, staff: STAFF_SCHEMA, open: OPEN_SCHEMA }, routeSchema, ...rest });
  const policy = createPolicies(cfg).find((p) => p.name === "routeSchema");
  if (policy === undefined) throw new Error("routeSchema is not in the pipeline");
  return policy.decide(hookInput("registration-after", given), policyContext()) as Decision;
}

/** The schema routed to, "unchanged", or the refusals as `KEY at pointer`. */
function routed(decision: Decision): string | string[] {
  if (decision.kind === "continue") return "unchanged";
  if (decision.kind === "patch") return decision.identity.schemaId ?? "unchanged";
  return decision.messages.map((m) => `${m.key} at ${m.pointer}`);
}

describe("routeSchema.decide: the default rules", () => {
  it.each<[string, Given, string | string[]]>([
    ["a phone-only sign-up goes to phone", { traits: { phone: "+4917612345678" } }, "phone"],
    ["an email sign-up goes to email", { traits: { email: "a@example.com" } }, "email"],
    ["email and phone go to email", { traits: { email: "a@example.com", phone: "+4917612345678" } }, "email"],
    ["a blank email counts as absent", { traits: { email: " ", phone: "+4917612345678" } }, "phone"],
    ["an identity already on another schema stays", { schemaId: "phone", traits: { phone: "+4917612345678" } }, "unchanged"],
    ["no trait a rule reads", { traits: { nickname: "x" } }, "unchanged"],
  ])("%s", (_title, given, expected) => {
    expect(routed(decide({}, given))).toEqual(expected);
  });
});

describe("routeSchema.decide: each condition", () => {
  const rule = (when: Record<string, unknown>) => ({ rules: [{ when, schema: "email" }] });
  it.each<[string, Record<string, unknown>, Given, string]>([
    ["traitPresent matches", { traitPresent: ["email"] }, { traits: { email: "a@example.com" } }, "email"],
    ["traitPresent misses", { traitPresent: ["phone"] }, { traits: { email: "a@example.com" } }, "unchanged"],
    [
      "traitPresent reads nested paths",
      { traitPresent: ["contact.mobile"] },
      { traits: { email: "a@example.com", contact: { mobile: "1" } } },
      "email",
    ],
    ["traitAbsent matches", { traitAbsent: ["phone"] }, { traits: { email: "a@example.com" } }, "email"],
    ["traitAbsent misses", { traitAbsent: ["email"] }, { traits: { email: "a@example.com" } }, "unchanged"],
    [
      "emailDomainIn matches a subdomain, any case",
      { emailDomainIn: ["example.com"] },
      { traits: { email: "a@Mail.Example.com" } },
      "email",
    ],
    ["emailDomainIn misses", { emailDomainIn: ["example.org"] }, { traits: { email: "a@example.com" } }, "unchanged"],
    ["phoneCountryIn matches", { phoneCountryIn: ["FR"] }, { traits: { email: "a@example.com", phone: "+33612345678" } }, "email"],
    ["phoneCountryIn misses", { phoneCountryIn: ["DE"] }, { traits: { email: "a@example.com", phone: "+33612345678" } }, "unchanged"],
    [
      "phoneCountryIn misses an unparsable number",
      { phoneCountryIn: ["DE"] },
      { traits: { email: "a@example.com", phone: "12" } },
      "unchanged",
    ],
    ["schemaIdIn matches", { schemaIdIn: ["default"] }, { traits: { email: "a@example.com" } }, "email"],
    ["schemaIdIn misses", { schemaIdIn: ["legacy"] }, { traits: { email: "a@example.com" } }, "unchanged"],
    [
      "transientPayloadEquals matches",
      { transientPayloadEquals: { account: "business" } },
      { traits: { email: "a@example.com" }, transientPayload: { account: "business" } },
      "email",
    ],
    [
      "transientPayloadEquals misses",
      { transientPayloadEquals: { account: "business" } },
      { traits: { email: "a@example.com" }, transientPayload: { account: "personal" } },
      "unchanged",
    ],
    ["an empty condition always matches", {}, { traits: { email: "a@example.com" } }, "email"],
    [
      "conditions combine with AND",
      { traitPresent: ["email"], emailDomainIn: ["example.org"] },
      { traits: { email: "a@example.com" } },
      "unchanged",
    ],
  ])("%s", (_title, when, given, expected) => {
    expect(routed(decide(rule(when), given))).toBe(expected);
  });

  it("takes the first matching rule", () => {
    const rules = {
      rules: [
        { when: { emailDomainIn: ["corp.example"] }, schema: "staff" },
        { when: { traitPresent: ["email"] }, schema: "email" },
      ],
    };
    expect(routed(decide(rules, { traits: { email: "a@corp.example", department: "eng" } }))).toBe("staff");
    expect(routed(decide(rules, { traits: { email: "a@example.com" } }))).toBe("email");
  });
});

describe("routeSchema.decide: the routed identity", () => {
  const toOpen = { rules: [{ when: {}, schema: "open" }] };

  it("drops traits the target does not declare (dropUndeclaredTraits, the default)", () => {
    expect(decide(toOpen, { traits: { email: "a@example.com", nickname: "al" } })).toEqual({
      kind: "patch",
      identity: { schemaId: "open", traits: { email: "a@example.com" } },
    });
  });

  it("keeps every trait with dropUndeclaredTraits: false", () => {
    expect(decide({ ...toOpen, dropUndeclaredTraits: false }, { traits: { email: "a@example.com", nickname: "al" } })).toEqual({
      kind: "patch",
      identity: { schemaId: "open", traits: { email: "a@example.com", nickname: "al" } },
    });
  });

  it("drops blank strings either way (a kept empty field would fail the target's format)", () => {
    const given = { traits: { email: "a@example.com", phone: "" } };
    for (const drop of [true, false]) {
      expect(decide({ ...toOpen, dropUndeclaredTraits: drop }, given)).toMatchObject({ identity: { traits: { email: "a@example.com" } } });
    }
  });

  it("merges a rule's metadataPublic into what the identity has", () => {
    const rules = { rules: [{ when: {}, schema: "open", metadataPublic: { signup: "email" } }] };
    expect(decide(rules, { traits: { email: "a@example.com" }, metadataPublic: { plan: "free", signup: "old" } })).toMatchObject({
      identity: { metadataPublic: { plan: "free", signup: "email" } },
    });
  });

  it("refuses, on each field once, traits the target schema rejects; a missing branch is global", () => {
    const rules = { rules: [{ when: {}, schema: "staff" }] };
    expect(routed(decide(rules, { traits: { email: "not-an-email", department: "sales" } }))).toEqual([
      "SCHEMA_TRAITS_INVALID at #/traits/email",
      "SCHEMA_TRAITS_INVALID at #/traits/department",
    ]);
    expect(routed(decide(rules, { traits: { email: "a@example.com" } }))).toEqual(["SCHEMA_TRAITS_INVALID at #/traits/department"]);
  });

  it("checks format tel as Kratos does: a national number fails without normalization, E.164 passes", () => {
    const off = { normalizePhone: { enabled: false } };
    expect(routed(decide({}, { traits: { phone: "0176 12345678" } }, off))).toEqual(["SCHEMA_TRAITS_INVALID at #/traits/phone"]);
    expect(routed(decide({}, { traits: { phone: "+4917612345678" } }, off))).toBe("phone");
  });
});

describe("routeSchema.decide: guards", () => {
  const guard = (field: string | null) => ({
    rules: [],
    guards: [{ schema: "staff", require: { emailDomainIn: ["corp.example"] }, field }],
  });

  it.each<[string, string | null, Given, string | string[]]>([
    [
      "refuses a requested schema whose requirement fails, on the named field",
      "email",
      { schemaId: "staff", traits: { email: "e@example.com" } },
      ["SCHEMA_NOT_ALLOWED at #/traits/email"],
    ],
    [
      "reads the schema asked for in flow.identity_schema",
      "email",
      { traits: { email: "e@example.com" }, requestedSchemaId: "staff" },
      ["SCHEMA_NOT_ALLOWED at #/traits/email"],
    ],
    [
      "lets it through when the requirement holds",
      "email",
      { schemaId: "staff", traits: { email: "b@corp.example", department: "eng" } },
      "unchanged",
    ],
    [
      "answers globally when the guard names no field",
      null,
      { schemaId: "staff", traits: { email: "e@example.com" } },
      ["SCHEMA_NOT_ALLOWED at #/"],
    ],
    ["ignores other schemas", "email", { traits: { email: "e@example.com" } }, "unchanged"],
  ])("%s", (_title, field, given, expected) => {
    expect(routed(decide(guard(field), given))).toEqual(expected);
  });
});

describe("routeSchema.decide: a schema the client asked for (Kratos v25.4+) is kept or refused", () => {
  const anyPhone = (schemaIdIn?: string[]) => ({
    rules: [{ when: { traitPresent: ["phone"], ...(schemaIdIn && { schemaIdIn }) }, schema: "phone" }],
  });
  const both = { email: "a@example.com", phone: "+4917612345678" };

  it.each<[string, Record<string, unknown>, Given, string | string[]]>([
    [
      "default rules, phone asked and built on phone: kept",
      {},
      { schemaId: "phone", requestedSchemaId: "phone", traits: { phone: "+4917612345678" } },
      "unchanged",
    ],
    ["default rules, email asked with a phone too: kept", {}, { schemaId: "email", requestedSchemaId: "email", traits: both }, "unchanged"],
    [
      "default rules, default asked: routed (schemaIdIn lists default)",
      {},
      { requestedSchemaId: "default", traits: { phone: "+4917612345678" } },
      "phone",
    ],
    ["a rule to the asked schema: routed", anyPhone(), { requestedSchemaId: "phone", traits: { phone: "+4917612345678" } }, "phone"],
    [
      "a rule elsewhere, schemaIdIn silent: refused",
      anyPhone(),
      { schemaId: "email", requestedSchemaId: "email", traits: both },
      ["SCHEMA_CONFLICT at #/traits/phone"],
    ],
    [
      "a rule elsewhere, schemaIdIn lists the asked schema: routed",
      anyPhone(["email"]),
      { schemaId: "email", requestedSchemaId: "email", traits: both },
      "phone",
    ],
    ["a rule elsewhere, nothing asked (v1.3.1): routed", anyPhone(), { schemaId: "email", traits: both }, "phone"],
  ])("%s", (_title, routeSchema, given, expected) => {
    expect(routed(decide(routeSchema, given))).toEqual(expected);
  });
});

describe("routeSchema alone: it checks what it routes, whatever a setting says ran before", () => {
  it("refuses a phone not in E.164 for the phone schema's format: tel, though normalizePhone is on in the config", async () => {
    const cfg = config({ normalizePhone: { enabled: true, defaultRegion: "DE" } });
    const app = createApp({
      config: cfg,
      apiKeys: ["k"],
      logger: { info() {}, warn() {}, error() {} },
      policies: [routeSchemaPolicy(cfg)],
    });
    const res = await app.request("/hooks/registration-after", {
      method: "POST",
      headers: { authorization: "Bearer k", "content-type": "application/json" },
      body: JSON.stringify(registration({ phone: "0176 12345678" })),
    });
    // Kratos would refuse the save ("does not match format tel") with a generic error; we say it on the field.
    expect(res.status).toBe(422);
    expect(JSON.stringify(await res.json())).toContain('"instance_ptr":"#/traits/phone"');
    // With normalizePhone before it, the same sign-up is routed with the number in E.164.
    expect(routed(decide({}, { traits: { phone: "+4917612345678" } }))).toBe("phone");
  });
});
