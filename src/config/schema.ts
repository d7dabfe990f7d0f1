import { z } from "zod";
import defaultSchema from "../../schemas/default.schema.json" with { type: "json" };
import emailSchema from "../../schemas/email.schema.json" with { type: "json" };
import phoneSchema from "../../schemas/phone.schema.json" with { type: "json" };
import { findIdentitySchemaProblem } from "../core/identity-schemas.js";
import { isPhoneRegion, PHONE_TYPES } from "../core/phone.js";
import type { NormalizePhoneOptions } from "../core/phone-rules.js";

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
export type Condition = z.infer<typeof condition>;

const normalizePhone = z.strictObject({
  enabled: z.boolean().default(true),
  fields: z.array(traitPath).min(1).default(["phone"]),
  defaultRegion: region.nullable().default(null),
  regionHeader: headerName.nullable().default(null),
  allowedTypes: z.array(z.enum(PHONE_TYPES)).min(1).nullable().default(null),
  allowedCountries: z.array(region).min(1).nullable().default(null),
  deniedCountries: z.array(region).default([]),
});
/** Compile-time proof that a schema's output fits the option type core owns (a mismatch fails `tsc`). */
type Fits<Output extends Owned, Owned> = Output;
export type NormalizePhoneConfig = Fits<z.infer<typeof normalizePhone>, NormalizePhoneOptions>;

const routeSchema = z.strictObject({
  enabled: z.boolean().default(true),
  emailTrait: traitPath.default("email"),
  phoneTrait: traitPath.default("phone"),
  dropUndeclaredTraits: z.boolean().default(true),
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
    ]),
  guards: z
    .array(
      z.strictObject({
        schema: schemaId,
        require: condition,
        field: traitPath.nullable().default(null),
      }),
    )
    .default([]),
});

const denyRules = z.strictObject({
  enabled: z.boolean().default(true),
  emailTraits: z.array(traitPath).default(["email"]),
  blockDisposable: z.boolean().default(true),
  allowDomains: z.array(domain).default([]),
  denyDomains: z.array(domain).default([]),
  login: z
    .strictObject({
      enabled: z.boolean().default(true),
      checkDeniedDomains: z.boolean().default(true),
      metadataPublic: z
        .array(z.strictObject({ key: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean()]) }))
        .default([]),
    })
    .prefault({}),
  request: z
    .strictObject({
      enabled: z.boolean().default(true),
      requiredHeaders: z.array(headerName).default([]),
      denyUserAgents: z.array(regexSource).default([]),
    })
    .prefault({}),
});

/**
 * Kratos may spend 93 s on one submit for each synchronous web_hook (3 attempts of 30 s, with 1 s
 * and 2 s between them: contract §4.1). A gateway that gives up sooner answers 504 while Kratos goes
 * on and, say, creates the identity; so the default waits longer than that.
 */
const DEFAULT_UPSTREAM_TIMEOUT_MS = 100_000;

const gateway = z.strictObject({
  upstreamTimeoutMs: z.number().int().min(1000).max(600_000).default(DEFAULT_UPSTREAM_TIMEOUT_MS),
  trustForwardedHeaders: z.boolean().default(false),
  regionFromClientCountry: z.boolean().default(false),
});

export const configSchema = z
  .strictObject({
    budgetMs: z.number().int().min(1).max(25_000).default(2000),
    failMode: z.enum(["open", "closed"]).default("closed"),
    identitySchemas: z
      .record(
        schemaId,
        z.record(z.string(), z.unknown()).superRefine((schema, ctx) => {
          const problem = findIdentitySchemaProblem(schema);
          if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem, input: schema });
        }),
      )
      // Added to the bundled schemas, each id replacing the bundled one of the same id.
      .transform((given) => ({ ...BUNDLED_IDENTITY_SCHEMAS, ...given }))
      .default(BUNDLED_IDENTITY_SCHEMAS),
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
export type Config = z.infer<typeof configSchema>;
