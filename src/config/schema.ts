import { z } from "zod";
import defaultSchema from "../../schemas/default.schema.json" with { type: "json" };
import emailSchema from "../../schemas/email.schema.json" with { type: "json" };
import phoneSchema from "../../schemas/phone.schema.json" with { type: "json" };
import { checkIdentitySchema } from "../core/identity-schema-rules.js";
import { pointerKeys } from "../core/json-pointer.js";
import { isPhoneRegion, PHONE_TYPES } from "../core/phone.js";
import type { NormalizePhoneOptions } from "../core/phone-rules.js";
import type { DenyRulesOptions } from "../core/policies/deny-rules.js";
import type { PoliciesConfig } from "../core/policies/index.js";
import type { Condition, RouteSchemaOptions } from "../core/policies/route-schema.js";

/** Identity schemas shipped in `schemas/`, known to the service unless the config replaces them. */
export const BUNDLED_IDENTITY_SCHEMAS: Record<string, Record<string, unknown>> = {
  default: defaultSchema,
  email: emailSchema,
  phone: phoneSchema,
};

const region = z.string().refine(isPhoneRegion, { error: 'expected an upper-case ISO 3166-1 alpha-2 region code such as "DE"' });
const traitPath = z
  .string()
  .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, { error: 'expected a trait name such as "phone" or "contact.mobile"' });
const domain = z.string().regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/, {
  error: 'expected a lower-case domain name such as "example.com"',
});
const schemaId = z.string().regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected a schema id such as "phone"' });
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: "expected an HTTP header name" });
const regexSource = z.string().refine(
  (source) => {
    try {
      new RegExp(source, "iu");
      return true;
    } catch {
      return false;
    }
  },
  { error: "expected a valid regular expression (JavaScript syntax, flags iu)" },
);

const condition = z.strictObject({
  traitPresent: z.array(traitPath).optional(),
  traitAbsent: z.array(traitPath).optional(),
  emailDomainIn: z.array(domain).optional(),
  phoneCountryIn: z.array(region).optional(),
  schemaIdIn: z.array(schemaId).optional(),
  transientPayloadEquals: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});

const normalizePhone = z.strictObject({
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
/** Compile-time proof that a schema's output fits the option type core owns (a mismatch fails `tsc`). */
type Fits<Output extends Owned, Owned> = Output;
export type NormalizePhoneConfig = Fits<z.infer<typeof normalizePhone>, NormalizePhoneOptions>;
export type ConditionConfig = Fits<z.infer<typeof condition>, Condition>;

const routeSchema = z.strictObject({
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

const denyRules = z.strictObject({
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

/**
 * Kratos may spend 93 s on one submit for each synchronous web_hook (3 attempts of 30 s, with 1 s
 * and 2 s between them: contract §4.1). A gateway that gives up sooner answers 504 while Kratos goes
 * on and, say, creates the identity; so the default waits longer than that.
 */
const DEFAULT_UPSTREAM_TIMEOUT_MS = 100_000;

const seconds = (fallback: number, what: string) =>
  z
    .number()
    .int()
    .min(1)
    .max(31 * 86_400)
    .default(fallback)
    .describe(what);
const count = (fallback: number, what: string) => z.number().int().min(1).max(1_000_000_000).default(fallback).describe(what);

/** Login protection (docs/shield.md#login-protection): failures counted on the normalized identifier. */
const shieldLogin = z.strictObject({
  windowSeconds: seconds(900, "How long failed logins of one identifier are remembered (per identifier and client, and per identifier)."),
  delayAfter: count(5, "Failures of one identifier from one client after which each next attempt waits (progressive delay)."),
  delaySeconds: seconds(2, "The first wait; it doubles with each further failure, up to `maxDelaySeconds`."),
  maxDelaySeconds: seconds(60, "The longest wait between attempts before the lock."),
  lockAfter: count(10, "Failures of one identifier from one client that lock it for that client until the window ends."),
  identifierLockAfter: count(
    25,
    "Failures of one identifier from all clients together that lock it for every client but the owner's known ones (the device marker).",
  ),
  clientWindowSeconds: seconds(3600, "How long one client's failures across identifiers are remembered (credential stuffing)."),
  clientLockAfter: count(10, "Failures from one client across identifiers that lock the client out of logins; never reset by a success."),
  clientCreditPerSuccess: z
    .number()
    .int()
    .min(0)
    .max(1000)
    .default(3)
    .describe(
      "Failures a client may add per distinct identifier that signed in from it (a carrier NAT's many real users); 0 turns it off.",
    ),
  clientMaxCredit: z.number().int().min(0).max(1_000_000).default(300).describe("The most a client's credit from successes can add."),
  deviceDays: z
    .number()
    .int()
    .min(1)
    .max(3650)
    .default(90)
    .describe("Days a device marker (the owner's escape from an identifier-wide lock) stays valid."),
});

/** SMS budgets (docs/shield.md#sms-budgets): code-sending submits counted per destination, client, prefix, country and globally. */
const shieldSms = z.strictObject({
  windowSeconds: seconds(3600, "The window of the per-number, per-client, per-prefix and per-country budgets."),
  perNumber: count(5, "Codes sent to one number per window."),
  perClient: count(30, "Code-sending submits from one client per window."),
  perPrefix: count(
    5,
    "Codes sent to one number block (all digits but the last `prefixHiddenDigits`) per window: sequential-number pumping.",
  ),
  prefixHiddenDigits: z
    .number()
    .int()
    .min(1)
    .max(6)
    .default(3)
    .describe("The digits of a number that make up its block (1000 numbers for 3)."),
  perCountry: count(2000, "Codes sent to one country calling code per window."),
  perMinute: count(600, "Codes sent per minute in all."),
  refuseTypes: z
    .array(z.enum([...PHONE_TYPES, "UNKNOWN"]))
    .default(["PREMIUM_RATE", "SHARED_COST", "UNKNOWN"])
    .describe("Number types never sent a code (libphonenumber's; `UNKNOWN`: a valid number of no known type)."),
});

const shield = z.strictObject({
  enabled: z.boolean().default(true).describe("Run the shield (login protection and SMS budgets) on the gateway's self-service submits."),
  failMode: z
    .enum(["open", "closed"])
    .default("open")
    .describe("When the store cannot answer: `open` forwards the attempt uncounted, `closed` refuses it (503)."),
  perClient: z
    .enum(["auto", "on", "off"])
    .default("auto")
    .describe(
      "Count per client address: `auto` does, unless the peer is a private address and `trustForwardedHeaders` is off (an ingress in front: every client would share one address).",
    ),
  uiUrls: z
    .strictObject({
      login: z
        .url()
        .nullable()
        .default(null)
        .describe("`selfservice.flows.login.ui_url`, or null: a refused form post then gets a page of the gateway's own (429)."),
      registration: z
        .url()
        .nullable()
        .default(null)
        .describe("`selfservice.flows.registration.ui_url`, or null: a refused form post then gets a page of the gateway's own (429)."),
      settings: z
        .url()
        .nullable()
        .default(null)
        .describe("`selfservice.flows.settings.ui_url`, or null: a refused form post then gets a page of the gateway's own (429)."),
      recovery: z
        .url()
        .nullable()
        .default(null)
        .describe("`selfservice.flows.recovery.ui_url`, or null: a refused form post then gets a page of the gateway's own (429)."),
    })
    .prefault({})
    .describe("Kratos's `selfservice.flows.<flow>.ui_url`: where a refused form post is sent back to (303), as Kratos would send it."),
  login: shieldLogin.prefault({}),
  sms: shieldSms.prefault({}),
});
export type ShieldConfig = z.infer<typeof shield>;

const gateway = z.strictObject({
  upstreamTimeoutMs: z
    .number()
    .int()
    .min(1000)
    .max(600_000)
    .default(DEFAULT_UPSTREAM_TIMEOUT_MS)
    .describe(
      "How long the gateway waits for Kratos's response headers before answering 504; longer than the 93 s Kratos may spend on one web_hook.",
    ),
  trustForwardedHeaders: z
    .boolean()
    .default(false)
    .describe(
      "Keep and extend the client's `X-Forwarded-*` and `True-Client-IP` (a proxy of yours is in front) instead of replacing them.",
    ),
  regionFromClientCountry: z
    .boolean()
    .default(false)
    .describe("Workers: read national numbers in Cloudflare's `request.cf.country` (after the header, before `defaultRegion`)."),
  shield: shield.prefault({}),
});

export const configSchema = z
  .strictObject({
    budgetMs: z
      .number()
      .int()
      .min(1)
      .max(25_000)
      .default(2000)
      .describe(
        "Milliseconds a hook call may wait on asynchronous work; then the answer follows `failMode`. Bounds waiting, never CPU work (Kratos gives up after 30 s).",
      ),
    failMode: z
      .enum(["open", "closed"])
      .default("closed")
      .describe(
        "When a policy runs out of `budgetMs` or fails: `closed` is 422 with `HOOK_TIMEOUT` or `HOOK_FAILED`, `open` goes on with what earlier policies decided. A policy's own `failMode` comes first; built-ins are always `closed`.",
      ),
    identitySchemas: z
      .record(
        schemaId,
        z.record(z.string(), z.unknown()).superRefine((schema, ctx) => {
          // A schema Kratos refuses to start with, or starts with and then fails on, cannot be
          // served. Warnings, and rules that later Kratos versions drop, do not block the start.
          for (const finding of checkIdentitySchema(schema)) {
            if (finding.effect === "warning" || finding.acceptedFrom !== undefined) continue;
            ctx.addIssue({ code: "custom", path: pointerKeys(finding.path), message: `${finding.message}; fix: ${finding.fix}` });
          }
        }),
      )
      // Added to the bundled schemas, each id replacing the bundled one of the same id.
      .transform((given) => ({ ...BUNDLED_IDENTITY_SCHEMAS, ...given }))
      .default(BUNDLED_IDENTITY_SCHEMAS)
      .describe(
        "Schema id → identity JSON Schema (or a path or `file://` URL): the schemas routing may target, added to the bundled ones in `schemas/` (an id replaces the bundled schema whole).",
      ),
    normalizePhone: normalizePhone.prefault({}),
    routeSchema: routeSchema.prefault({}),
    denyRules: denyRules.prefault({}),
    gateway: gateway.prefault({}),
  })
  .superRefine((config, ctx) => {
    const known = Object.keys(config.identitySchemas);
    const check = (id: string, path: (string | number)[]) => {
      if (!known.includes(id)) {
        ctx.addIssue({
          code: "custom",
          path,
          input: id,
          message: `expected one of the identity schemas in identitySchemas (${known.join(", ")})`,
        });
      }
    };
    config.routeSchema.rules.forEach((rule, i) => {
      check(rule.schema, ["routeSchema", "rules", i, "schema"]);
    });
    config.routeSchema.guards.forEach((guard, i) => {
      check(guard.schema, ["routeSchema", "guards", i, "schema"]);
    });
  });

/** The validated configuration. Every key has a default: `{}` is a complete config. */
export type Config = Fits<z.infer<typeof configSchema>, PoliciesConfig>;
