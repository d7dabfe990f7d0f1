import * as z from "zod";
import { PHONE_TYPES } from "../core/phone.js";
import type { NormalizePhoneOptions } from "../core/phone-rules.js";
import type { DenyRulesOptions } from "../core/policies/deny-rules.js";
import type { Condition, RouteSchemaOptions } from "../core/policies/route-schema.js";
import { domain, type Fits, headerName, regexSource, region, schemaId, traitPath } from "./fields.js";

// The built-in policies' keys (`normalizePhone`, `routeSchema`, `denyRules`), each checked against
// the option type core owns.

const condition = z.strictObject({
  traitPresent: z.array(traitPath).optional(),
  traitAbsent: z.array(traitPath).optional(),
  emailDomainIn: z.array(domain).optional(),
  phoneCountryIn: z.array(region).optional(),
  schemaIdIn: z.array(schemaId).optional(),
  transientPayloadEquals: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});

/** `normalizePhone`: phone numbers to E.164, at the hooks and the gateway. */
export const normalizePhone = z.strictObject({
  enabled: z.boolean().default(true).describe("Run phone normalization (registration-after, settings-after) and the gateway's rewriting."),
  fields: z.array(traitPath).min(1).default(["phone"]).describe("Trait paths holding phone numbers; dotted paths reach nested traits."),
  defaultRegion: region
    .nullable()
    .default(null)
    .describe(
      "Region for national numbers when neither the form's `phone_region` nor the header (nor, at the gateway, the client's country) gives one.",
    ),
  regionHeader: headerName
    .nullable()
    .default(null)
    .describe("Request header holding a region, e.g. `Cf-Ipcountry` (add it to Kratos's header allowlist)."),
  allowedTypes: z
    .array(z.enum(PHONE_TYPES))
    .min(1)
    .nullable()
    .default(null)
    .describe(
      'libphonenumber types accepted, e.g. `["MOBILE", "FIXED_LINE_OR_MOBILE"]` for SMS (US and CA numbers are `FIXED_LINE_OR_MOBILE`); null: any.',
    ),
  allowedCountries: z
    .array(region)
    .min(1)
    .nullable()
    .default(null)
    .describe("ISO 3166-1 codes accepted; other countries and non-geographic numbers are refused; null: any."),
  deniedCountries: z.array(region).default([]).describe("ISO 3166-1 codes refused."),
});
export type NormalizePhoneConfig = Fits<z.infer<typeof normalizePhone>, NormalizePhoneOptions>;
export type ConditionConfig = Fits<z.infer<typeof condition>, Condition>;

/** `routeSchema`: which identity schema a sign-up gets, and which it may ask for. */
export const routeSchema = z.strictObject({
  enabled: z.boolean().default(true).describe("Run schema routing and guards (registration-after)."),
  emailTrait: traitPath.default("email").describe("Trait read by the `emailDomainIn` condition."),
  phoneTrait: traitPath.default("phone").describe("Trait read by the `phoneCountryIn` condition."),
  dropUndeclaredTraits: z.boolean().default(true).describe("When routing, drop traits the target schema does not declare."),
  rules: z
    .array(
      z.strictObject({
        name: z.string().optional(),
        when: condition,
        schema: schemaId,
        metadataPublic: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .default([
      { name: "phone only", when: { schemaIdIn: ["default"], traitPresent: ["phone"], traitAbsent: ["email"] }, schema: "phone" },
      { name: "email", when: { schemaIdIn: ["default"], traitPresent: ["email"] }, schema: "email" },
    ])
    .describe("`[{ name?, when: <condition>, schema, metadataPublic? }]`: the first rule whose `when` holds sets `schema_id`."),
  guards: z
    .array(
      z.strictObject({
        schema: schemaId,
        require: condition,
        field: traitPath.nullable().default(null),
      }),
    )
    .default([])
    .describe(
      "`[{ schema, require: <condition>, field? }]`: a sign-up asking for `schema` must meet `require`, else `SCHEMA_NOT_ALLOWED` on `field`.",
    ),
});

export type RouteSchemaConfig = Fits<z.infer<typeof routeSchema>, RouteSchemaOptions>;

/** `denyRules`: email domains, logins and requests refused. */
export const denyRules = z.strictObject({
  enabled: z.boolean().default(true).describe("Run the deny rules."),
  emailTraits: z.array(traitPath).default(["email"]).describe("Traits holding email addresses."),
  blockDisposable: z.boolean().default(true).describe("Refuse disposable email domains (registration-after, settings-after)."),
  allowDomains: z
    .array(domain)
    .default([])
    .describe("If non-empty, only these domains and their subdomains; overrides the disposable list."),
  denyDomains: z.array(domain).default([]).describe("Refused domains and their subdomains, also at login."),
  login: z
    .strictObject({
      enabled: z.boolean().default(true).describe("Run the login-after rules."),
      checkDeniedDomains: z.boolean().default(true).describe("Refuse login for an email at a `denyDomains` domain."),
      metadataPublic: z
        .array(z.strictObject({ key: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean()]) }))
        .default([])
        .describe("`[{ key, equals }]`: refuse login when `metadata_public[key]` equals the value."),
    })
    .prefault({}),
  request: z
    .strictObject({
      enabled: z.boolean().default(true).describe("Run the before-hook rules (registration-before, login-before)."),
      requiredHeaders: z.array(headerName).default([]).describe("Before-hooks: headers that must be present."),
      denyUserAgents: z
        .array(regexSource)
        .default([])
        .describe("Before-hooks: `User-Agent` patterns refused (regular expressions, case-insensitive)."),
    })
    .prefault({}),
});

export type DenyRulesConfig = Fits<z.infer<typeof denyRules>, DenyRulesOptions>;
