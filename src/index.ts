/**
 * `kratos-hooks`: the portable core, the same on Node and Cloudflare Workers. Write a policy with
 * `definePolicy`, run it with the built-in ones in `createApp` (or `serve` from
 * `kratos-hooks/node`, `createWorker` from `kratos-hooks/worker`), and put rules of your own in
 * front of Kratos's public API with `createGateway`'s `rules`. Only what this module,
 * `kratos-hooks/node` and `kratos-hooks/worker` export is public API (docs/library.md).
 *
 * @module
 */
import { parseConfig as parseConfigFrom } from "./config/parse.js";
import type { Config } from "./config/schema.js";
import { isPhoneRegion, toE164 } from "./core/phone.js";

export { createConsoleLogger } from "./adapters/worker-logger.js";
export type { LogLevel } from "./config/env.js";
export { ConfigError } from "./config/parse.js";
export type { Config } from "./config/schema.js";
export type {
  AuthenticationMethodView,
  AuthenticatorAssuranceLevel,
  BuiltInDenial,
  CustomDenial,
  CustomMessage,
  Decision,
  Denial,
  HookInput,
  IdentityView,
  JsonObject,
  SessionView,
} from "./core/decision.js";
export { PolicyBugError } from "./core/decision-check.js";
export {
  type ContinueDecision,
  type DecisionOn,
  type DenyDecision,
  defineMessage,
  definePolicy,
  denyAll,
  denyField,
  denyForm,
  type InputOf,
  type PatchableInput,
  type PatchDecision,
  type PolicySpec,
  patch,
  patchExternalId,
  patchMetadataPublic,
  patchSchemaId,
  patchTraits,
  proceed,
} from "./core/define-policy.js";
export { type AfterHookId, type BeforeHookId, HOOK_IDS, type HookId, type PatchableHookId } from "./core/hooks.js";
export type { Logger } from "./core/logger.js";
export { CUSTOM_MESSAGE_ID_BLOCK, type MessageIdBlock } from "./core/message-ids.js";
export { MESSAGES, type MessageKey } from "./core/messages.js";
export {
  createPolicies as builtInPolicies,
  denyRulesPolicy,
  normalizePhonePolicy,
  type PoliciesConfig,
  routeSchemaPolicy,
} from "./core/policies/index.js";
export type { Policy, PolicyContext } from "./core/policy.js";
export { createGateway, type GatewayEnv, type GatewayOptions, type GatewayRule } from "./gateway/app.js";
export { type KratosErrorStatus, KratosHTTPException, kratosErrorResponse } from "./gateway/kratos-error.js";
export type { Attempt, ClientKind, CodeDestination } from "./gateway/shield/attempt.js";
export type { ShieldReason } from "./gateway/shield/check.js";
export { MemoryStore } from "./gateway/shield/memory-store.js";
export type { Outcome } from "./gateway/shield/outcome.js";
export { createShield, type Shield, type ShieldOptions } from "./gateway/shield/shield.js";
export type { Counter, CounterHit, ShieldStore } from "./gateway/shield/store.js";
export { type AppEnv, type AppOptions, createApp } from "./http/app.js";

/**
 * The configuration (docs/configuration.md) from a JSON value, with every default filled in:
 * `parseConfig({ normalizePhone: { defaultRegion: "DE" } })`. Identity schemas are given inline.
 *
 * ```ts
 * import { parseConfig } from "kratos-hooks";
 * const config = parseConfig({ normalizePhone: { defaultRegion: "DE" } });
 * ```
 *
 * @throws ConfigError with one line per problem.
 */
export function parseConfig(raw: unknown = {}): Config {
  return parseConfigFrom(raw, "parseConfig()");
}

/** A phone number in E.164 with its country, or why it is not one (`invalid`, `needs_international`, `extension`). */
export type PhoneNumberResult = { ok: true; e164: string; country: string | undefined } | { ok: false; reason: string };

/**
 * The phone normalization the built-in policies and the gateway use: `raw` as a person typed
 * it, `region` the ISO 3166-1 alpha-2 country assumed for a national number ("DE").
 * `normalizePhoneNumber("0176 12345678", "DE")` → `{ ok: true, e164: "+4917612345678", country: "DE" }`.
 *
 * ```ts
 * import { normalizePhoneNumber } from "kratos-hooks";
 * const result = normalizePhoneNumber("0176 12345678", "DE");
 * if (result.ok) console.log(result.e164); // "+4917612345678"
 * ```
 *
 * @throws TypeError for a region libphonenumber does not know.
 */
export function normalizePhoneNumber(raw: string, region?: string): PhoneNumberResult {
  if (region !== undefined && !isPhoneRegion(region))
    throw new TypeError(`normalizePhoneNumber: region: expected an ISO 3166-1 alpha-2 code such as "DE", found ${JSON.stringify(region)}`);
  const result = toE164(raw, region);
  return result.ok ? { ok: true, e164: result.e164, country: result.country } : { ok: false, reason: result.reason };
}
