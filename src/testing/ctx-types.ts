import type { JsonObject } from "../core/decision.js";
import { type AfterHookId, HOOK_IDS, type HookId, isHookId } from "../core/hooks.js";
import { isJsonObject } from "../core/json.js";

/** Tags a ctx with its hook: a symbol, so that `JSON.stringify(ctx)` is exactly the body sent. */
const HOOK: unique symbol = Symbol.for("kratos-hooks/testing.hook");

/**
 * `ctx.identity` as Kratos sends it (`identity/identity.go`): the fields policies read, and any
 * others Kratos adds (`id`, `state`, `verifiable_addresses`, …).
 *
 * ```ts
 * const identity: KratosIdentity = { schema_id: "default", traits: { email: "a@example.com" }, metadata_public: null };
 * ```
 */
export interface KratosIdentity {
  schema_id: string;
  traits: JsonObject;
  metadata_public: JsonObject | null;
  [key: string]: unknown;
}

/**
 * Kratos's template context `ctx` (`selfservice/hook/web_hook.go` `templateContext`): what the
 * Jsonnet template of a web_hook reads, and what a test sends to `POST /hooks/<hook>`.
 *
 * ```ts
 * const ctx: KratosCtx = { flow: { id: "f", type: "api" }, request_headers: {}, request_method: "POST", request_url: "", request_cookies: {} };
 * ```
 */
export interface KratosCtx {
  flow: JsonObject;
  /** Name → values, names as Go canonicalises them (`User-Agent`). */
  request_headers: Record<string, string[]>;
  request_method: string;
  request_url: string;
  request_cookies: Record<string, string>;
  /** After-hooks only. */
  identity?: KratosIdentity;
  /** login-after; settings-after from Kratos v26.2. */
  session?: JsonObject;
  [key: string]: unknown;
}

/**
 * A ctx tagged with its hook, from `hookCtx` or `exampleCtx`, so that `runPolicy(policy, ctx)`
 * and `callHook(app, ctx)` need no hook argument. It is plain JSON otherwise: change it, spread
 * it (`{ ...ctx, session: … }` keeps the tag), or `JSON.stringify` it.
 *
 * ```ts
 * const ctx: HookCtx<"registration-after"> = hookCtx("registration-after", { traits: { email: "a@example.com" } });
 * ctx.identity.traits.email; // "a@example.com"
 * ```
 */
export type HookCtx<H extends HookId = HookId> = KratosCtx & { readonly [HOOK]: H } & (H extends AfterHookId
    ? { identity: KratosIdentity }
    : unknown);

/**
 * What `hookCtx` changes on the example it starts from. Every field is optional; what is not
 * given stays as the example has it (`exampleCtx` shows it).
 *
 * ```ts
 * const input: CtxInput = { traits: { phone: "0176 12345678" }, transientPayload: { phone_region: "DE" } };
 * ```
 */
export interface CtxInput {
  /**
   * What to start from: a shipped example of the hook, by scenario (`"password-email"`) or full
   * name (`"registration-after.password-email"`), or a ctx of your own (a capture from a log).
   * Default: the hook's default example (`DEFAULT_EXAMPLES`).
   */
  from?: string | JsonObject;
  /** `identity.traits`, replaced whole (the traits the person submitted). Adds a form input for each trait the form lacks. */
  traits?: JsonObject;
  /** `identity.schema_id`. */
  schemaId?: string;
  /** `identity.metadata_public`. */
  metadataPublic?: JsonObject | null;
  /** `identity.external_id` (Kratos v25.4+); null removes it. */
  externalId?: string | null;
  /**
   * `flow.transient_payload`, replaced whole; null removes it. Not on `settings-after`: Kratos
   * v26.2.0 (and v25.4, judged the same) does not pass it to settings hooks, so hookCtx throws
   * (on v1.3.1, which does, set `ctx.flow.transient_payload` on the ctx it returns).
   */
  transientPayload?: JsonObject | null;
  /** `flow.identity_schema` (Kratos v25.4+: the schema the client asked for); null removes it. */
  requestedSchemaId?: string | null;
  /**
   * `request_headers`, merged by name (case-insensitive) into the example's: a string is one
   * value, null removes the header. `{ "User-Agent": "curl/8.5.0" }`. Only the names Kratos
   * forwards by default (its 17: `Accept`, `User-Agent`, `Origin`, `True-Client-Ip`, …) or that
   * `allowHeaders` lists: hookCtx throws for any other, which a policy would never see.
   */
  headers?: Record<string, string | readonly string[] | null>;
  /**
   * More request headers Kratos forwards because your kratos.yml lists them in
   * `clients.web_hook.header_allowlist` (Kratos v25.4+; v1.3.1 forwards only its 17 fixed names,
   * whatever kratos.yml says): `["Cf-Ipcountry"]`. Case-insensitive.
   */
  allowHeaders?: readonly string[];
  /** `session`, as Kratos sends it (login-after; settings-after from v26.2); null removes it. */
  session?: JsonObject | null;
  /** Keys merged into `flow` (each replaced whole), applied before the fields above: `{ type: "api" }`. */
  flow?: JsonObject;
}

/** `hook` when it is one of ours; a TypeError that names the hooks otherwise. */
export function toHookId(caller: string, hook: unknown): HookId {
  if (typeof hook !== "string" || !isHookId(hook)) {
    throw new TypeError(`${caller}: unknown hook ${JSON.stringify(hook) ?? String(hook)}; the hooks are: ${HOOK_IDS.join(", ")}`);
  }
  return hook;
}

/** `ctx` tagged with the hook it was built for (see `HookCtx`). */
export function tag<H extends HookId>(hook: H, ctx: KratosCtx): HookCtx<H> {
  return Object.assign(ctx, { [HOOK]: hook }) as HookCtx<H>;
}

/** The hook a ctx was built for, or undefined for an untagged object. */
export function hookOfCtx(ctx: unknown): HookId | undefined {
  if (!isJsonObject(ctx)) return undefined;
  const hook = (ctx as { [HOOK]?: unknown })[HOOK];
  return typeof hook === "string" && isHookId(hook) ? hook : undefined;
}
