import * as z from "zod";
import defaultSchema from "../../schemas/default.schema.json" with { type: "json" };
import emailSchema from "../../schemas/email.schema.json" with { type: "json" };
import phoneSchema from "../../schemas/phone.schema.json" with { type: "json" };
import { checkIdentitySchema } from "../core/identity-schema-rules.js";
import { pointerKeys } from "../core/json-pointer.js";
import type { PoliciesConfig } from "../core/policies/index.js";
import { type Fits, schemaId } from "./fields.js";
import { gateway } from "./gateway-schema.js";
import { denyRules, normalizePhone, routeSchema } from "./policy-schemas.js";

export type { ConditionConfig, DenyRulesConfig, NormalizePhoneConfig, RouteSchemaConfig } from "./policy-schemas.js";
export type { ShieldConfig } from "./shield-schema.js";

/** Identity schemas shipped in `schemas/`, known to the service unless the config replaces them. */
export const BUNDLED_IDENTITY_SCHEMAS: Record<string, Record<string, unknown>> = {
  default: defaultSchema,
  email: emailSchema,
  phone: phoneSchema,
};

/** The whole configuration: the hooks' keys, the policies' (policy-schemas.ts) and the gateway's (gateway-schema.ts). */
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
