import type { JsonObject } from "../decision.js";
import { isDisposableDomain } from "../disposable.js";
import { createIdentitySchemaSet } from "../identity-schemas.js";
import { toE164 } from "../phone.js";
import type { NormalizePhoneOptions } from "../phone-rules.js";
import { builtIn, type Policy } from "../policy.js";
import { createDenyRules, type DenyRulesOptions } from "./deny-rules.js";
import { createNormalizePhone } from "./normalize-phone.js";
import { createRouteSchema, type RouteSchemaOptions } from "./route-schema.js";

/** What the built-in policies read; the validated `Config` is one. */
export interface PoliciesConfig {
  normalizePhone: NormalizePhoneOptions & { enabled: boolean };
  denyRules: DenyRulesOptions & { enabled: boolean };
  routeSchema: RouteSchemaOptions & { enabled: boolean };
  identitySchemas: Readonly<Record<string, JsonObject>>;
}

/**
 * The built-in phone policy (`normalizePhone` in the config): numbers to E.164, or a denial.
 *
 * ```ts
 * import { denyRulesPolicy, normalizePhonePolicy, routeSchemaPolicy } from "kratos-hooks";
 * const policies = [normalizePhonePolicy(config), inviteOnly, denyRulesPolicy(config), routeSchemaPolicy(config)];
 * ```
 */
export function normalizePhonePolicy(config: PoliciesConfig): Policy {
  return builtIn(createNormalizePhone(config.normalizePhone));
}

/**
 * The built-in deny rules (`denyRules` in the config): email domains, blocked logins, countries.
 *
 * ```ts
 * import { denyRulesPolicy, normalizePhonePolicy, routeSchemaPolicy } from "kratos-hooks";
 * const policies = [normalizePhonePolicy(config), denyRulesPolicy(config), inviteOnly, routeSchemaPolicy(config)];
 * ```
 */
export function denyRulesPolicy(config: PoliciesConfig): Policy {
  return builtIn(createDenyRules(config.denyRules));
}

/**
 * The built-in schema routing (`routeSchema` in the config): picks each new identity's `schema_id`.
 *
 * ```ts
 * import { denyRulesPolicy, normalizePhonePolicy, routeSchemaPolicy } from "kratos-hooks";
 * const policies = [normalizePhonePolicy(config), denyRulesPolicy(config), routeSchemaPolicy(config), tagPlan];
 * ```
 */
export function routeSchemaPolicy(config: PoliciesConfig): Policy {
  // The phone settings only say how a nationally written number reads (`phoneCountryIn`); what
  // ran before routing is not assumed from them: the target schema's `format: tel` is checked.
  return builtIn(createRouteSchema(config.routeSchema, createIdentitySchemaSet(config.identitySchemas), { region: config.normalizePhone }));
}

/**
 * The built-in policies the configuration turns on, in pipeline order: normalise first (later
 * rules read E.164 numbers), then deny (a refusal names the user's mistake before routing
 * validates anything), then route.
 *
 * ```ts
 * import { builtInPolicies } from "kratos-hooks";
 * const policies = [...builtInPolicies(config), inviteOnly];
 * ```
 */
export function createPolicies(config: PoliciesConfig): Policy[] {
  const policies: Policy[] = [];
  if (config.normalizePhone.enabled) policies.push(normalizePhonePolicy(config));
  if (config.denyRules.enabled) policies.push(denyRulesPolicy(config));
  if (config.routeSchema.enabled) policies.push(routeSchemaPolicy(config));
  return policies;
}

/**
 * Loads the disposable-domain set and exercises libphonenumber once, so that the first person
 * to sign up after a deploy does not pay for it (about 10 ms on the first call otherwise).
 */
export function warmUp(): void {
  isDisposableDomain("example.com");
  toE164("+49 176 12345678", undefined);
}
