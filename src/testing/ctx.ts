import type { JsonObject } from "../core/decision.js";
import { type AfterHookId, factsOf, HOOK_IDS, type HookId, isHookId } from "../core/hooks.js";
import { isJsonObject } from "../core/json.js";
import { KRATOS_DEFAULT_HEADER_ALLOWLIST } from "../kratos/header-allowlist.js";
import { EXAMPLE_TEXTS } from "./examples.js";

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

/**
 * The example `hookCtx` starts from when `from` is not given: for each hook, a browser flow
 * with a password form.
 *
 * ```ts
 * DEFAULT_EXAMPLES["registration-after"]; // "password-phone-national"
 * ```
 */
export const DEFAULT_EXAMPLES: Readonly<Record<HookId, string>> = {
  "registration-before": "browser",
  // A phone sign-up with the client's region hint (DE): national numbers normalise out of the box.
  "registration-after": "password-phone-national",
  "login-before": "browser",
  "login-after": "password",
  "settings-after": "profile-unchanged",
};

const INPUT_FIELDS: readonly (keyof CtxInput)[] = [
  "from",
  "traits",
  "schemaId",
  "metadataPublic",
  "externalId",
  "transientPayload",
  "requestedSchemaId",
  "headers",
  "allowHeaders",
  "session",
  "flow",
];
const IDENTITY_FIELDS: readonly (keyof CtxInput)[] = ["traits", "schemaId", "metadataPublic", "externalId"];

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

function toHookId(caller: string, hook: unknown): HookId {
  if (typeof hook !== "string" || !isHookId(hook)) {
    throw new TypeError(`${caller}: unknown hook ${JSON.stringify(hook) ?? String(hook)}; the hooks are: ${HOOK_IDS.join(", ")}`);
  }
  return hook;
}

/**
 * The names of the shipped examples, `<hook>.<scenario>`, sorted: every one, or the given
 * hook's. They are the files in kratos/examples/, the ones `kratos-hooks try --example` reads.
 *
 * ```ts
 * exampleNames("login-after"); // ["login-after.blocked-account", "login-after.password", "login-after.phone"]
 * for (const name of exampleNames()) await callHook(app, exampleCtx(name), { apiKey });
 * ```
 *
 * @throws TypeError for an unknown hook.
 */
export function exampleNames(hook?: HookId): string[] {
  const names = Object.keys(EXAMPLE_TEXTS).sort();
  if (hook === undefined) return names;
  const id = toHookId("exampleNames", hook);
  return names.filter((name) => name.startsWith(`${id}.`));
}

function tag<H extends HookId>(hook: H, ctx: KratosCtx): HookCtx<H> {
  return Object.assign(ctx, { [HOOK]: hook }) as HookCtx<H>;
}

/** The hook a ctx was built for, or undefined for an untagged object. */
export function hookOfCtx(ctx: unknown): HookId | undefined {
  if (!isJsonObject(ctx)) return undefined;
  const hook = (ctx as { [HOOK]?: unknown })[HOOK];
  return typeof hook === "string" && isHookId(hook) ? hook : undefined;
}

/**
 * What Kratos always puts in a ctx (`templateContext`; an identity's metadata_public is null when
 * unset) and a hand-made one may lack, as `kratos-hooks try` fills it in.
 */
function completed(hook: HookId, value: JsonObject, caller: string): KratosCtx {
  const ctx = value as KratosCtx;
  if (!isJsonObject(ctx.flow)) ctx.flow = {};
  ctx.flow.id ??= "00000000-0000-0000-0000-000000000000";
  ctx.flow.type ??= "api";
  if (!isJsonObject(ctx.request_headers)) ctx.request_headers = {};
  ctx.request_method ??= "POST";
  ctx.request_url ??= "";
  if (!isJsonObject(ctx.request_cookies)) ctx.request_cookies = {};
  if (factsOf(hook).hasIdentity) {
    if (!isJsonObject(ctx.identity))
      throw new TypeError(`${caller}: the ctx has no "identity" object, which Kratos always sends to ${hook}`);
    ctx.identity.metadata_public ??= null;
  }
  return ctx;
}

/**
 * A shipped example's ctx (kratos/examples/<hook>.<scenario>.json), a fresh copy on each call,
 * exactly as the file holds it: Kratos's full ctx (see `hookCtx`).
 *
 * ```ts
 * const ctx = exampleCtx("registration-after.password-phone-national");
 * ctx.identity.traits; // { phone: "0176 12345678" }
 * ```
 *
 * @throws TypeError for a name that is not a shipped example, naming the ones there are.
 */
export function exampleCtx<H extends HookId>(name: `${H}.${string}`): HookCtx<H>;
export function exampleCtx(name: string): HookCtx;
export function exampleCtx(name: string): HookCtx {
  const text = typeof name === "string" && Object.hasOwn(EXAMPLE_TEXTS, name) ? EXAMPLE_TEXTS[name] : undefined;
  const hook = typeof name === "string" ? HOOK_IDS.find((id) => name.startsWith(`${id}.`)) : undefined;
  if (text === undefined || hook === undefined) {
    const names = hook === undefined ? exampleNames() : exampleNames(hook);
    throw new TypeError(
      `exampleCtx: no shipped example ${JSON.stringify(name) ?? String(name)}; the examples${hook === undefined ? "" : ` for ${hook}`} are: ${names.join(", ")}`,
    );
  }
  return tag(hook, completed(hook, JSON.parse(text), "exampleCtx"));
}

/** Go's `textproto.CanonicalMIMEHeaderKey`, as Kratos names `ctx.request_headers`: `user-agent` → `User-Agent`. */
function canonicalHeader(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** The dotted paths of a traits object's leaves (`address.mobile`), as Kratos names their form inputs. */
function leafPaths(value: JsonObject, prefix: string): string[] {
  return Object.entries(value).flatMap(([key, child]) =>
    isJsonObject(child) && Object.keys(child).length > 0 ? leafPaths(child, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

/** Adds a text input for each submitted trait the form lacks: a person submits only what the form has. */
function addTraitInputs(flow: JsonObject, traits: JsonObject): void {
  const ui = flow.ui;
  if (!isJsonObject(ui) || !Array.isArray(ui.nodes)) return;
  const names = new Set(ui.nodes.map((n) => (isJsonObject(n) && isJsonObject(n.attributes) ? n.attributes.name : undefined)));
  for (const path of leafPaths(traits, "traits.")) {
    if (names.has(path)) continue;
    ui.nodes.push({
      type: "input",
      group: "default",
      attributes: { name: path, type: "text", disabled: false, node_type: "input" },
      messages: [],
      meta: {},
    });
  }
}

type Check = (value: unknown) => boolean;
const isObject: Check = isJsonObject;
const orNull =
  (check: Check): Check =>
  (value) =>
    value === null || check(value);
const isNonEmptyString: Check = (value) => typeof value === "string" && value !== "";

const EXPECTED: Record<Exclude<keyof CtxInput, "from">, [Check, string]> = {
  traits: [isObject, "an object"],
  schemaId: [isNonEmptyString, "a non-empty string"],
  metadataPublic: [orNull(isObject), "an object or null"],
  externalId: [orNull((v) => typeof v === "string"), "a string or null"],
  transientPayload: [orNull(isObject), "an object or null"],
  requestedSchemaId: [orNull(isNonEmptyString), "a non-empty string or null"],
  headers: [isObject, 'an object of header values, e.g. { "User-Agent": "curl/8.5.0" }'],
  allowHeaders: [(v) => Array.isArray(v) && v.every(isNonEmptyString), 'an array of header names, e.g. ["Cf-Ipcountry"]'],
  session: [orNull(isObject), "an object or null"],
  flow: [isObject, "an object"],
};

function startingCtx(hook: HookId, from: unknown, caller: string): KratosCtx {
  if (from === undefined) return exampleCtx(`${hook}.${DEFAULT_EXAMPLES[hook]}`);
  if (typeof from === "string") {
    const name = from.startsWith(`${hook}.`) ? from : `${hook}.${from}`;
    if (!Object.hasOwn(EXAMPLE_TEXTS, name)) {
      throw new TypeError(
        `${caller}: from: no shipped example ${JSON.stringify(from)}; the examples are: ${exampleNames(hook).join(", ")}`,
      );
    }
    return exampleCtx(name);
  }
  if (!isJsonObject(from)) throw new TypeError(`${caller}: from: expected an example's name or a ctx object, found ${kindOf(from)}`);
  return completed(hook, JSON.parse(JSON.stringify(from)), caller);
}

/** Kratos's default header allowlist, lower case: names compare case-insensitively, as Go's canonical form does. */
const FORWARDED_BY_DEFAULT: ReadonlySet<string> = new Set(KRATOS_DEFAULT_HEADER_ALLOWLIST.map((name) => name.toLowerCase()));

/**
 * Refuses what Kratos never puts in this hook's ctx, so that a test cannot pass for a policy that
 * reads it: a request header outside Kratos's allowlist (`src/cli/kratos-headers.ts`, as `try`
 * judges it), and a transient payload on a settings hook (v26.2.0 sends none there; `try` drops it).
 */
function assertKratosSends(hook: HookId, input: CtxInput, caller: string): void {
  const allowed = new Set([...FORWARDED_BY_DEFAULT, ...(input.allowHeaders ?? []).map((name) => name.toLowerCase())]);
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (value === null || allowed.has(name.toLowerCase())) continue;
    throw new TypeError(
      `${caller}: headers.${name}: Kratos does not forward this request header to web_hooks unless kratos.yml's ` +
        `clients.web_hook.header_allowlist lists it (Kratos v25.4+; v1.3.1 forwards only its 17 fixed names: ` +
        `${KRATOS_DEFAULT_HEADER_ALLOWLIST.join(", ")}), so a policy would never see it. ` +
        `If your allowlist has it, say so: hookCtx(${JSON.stringify(hook)}, { headers, allowHeaders: [${JSON.stringify(name)}] })`,
    );
  }
  const payload = input.transientPayload ?? (input.flow === undefined ? undefined : input.flow.transient_payload);
  if (factsOf(hook).flow === "settings" && payload !== undefined && payload !== null) {
    throw new TypeError(
      `${caller}: ${input.transientPayload === undefined ? "flow.transient_payload" : "transientPayload"}: Kratos v26.2.0 does not pass flow.transient_payload to settings hooks ` +
        `(measured; v25.4 is judged the same), so a policy never sees it there; only v1.3.1 passes it. ` +
        "Testing for v1.3.1? Set ctx.flow.transient_payload on the ctx hookCtx returns",
    );
  }
}

/**
 * A hook's ctx for a test: the hook's default example (`DEFAULT_EXAMPLES`, or the one `from`
 * names) with the fields you give replaced. It is Kratos's full ctx, what the web_hook's Jsonnet
 * template receives, not the template's output (kratos/hooks/<hook>.jsonnet, a subset, which is
 * what the service receives in production); the service reads the same fields from either, so
 * the answer is the same. Each call returns a fresh copy.
 *
 * ```ts
 * const ctx = hookCtx("registration-after", { traits: { email: "a@example.com", phone: "0176 12345678" } });
 * const api = hookCtx("registration-before", { flow: { type: "api" }, headers: { "User-Agent": "python-requests/2.32" } });
 * const verdict = await runPolicy(myPolicy, ctx);
 * ```
 *
 * What Kratos never sends is refused rather than built: a request header outside its default
 * allowlist (`allowHeaders` adds the names your `clients.web_hook.header_allowlist` lists), and a
 * transient payload on `settings-after` (Kratos v26.2.0 passes none there).
 *
 * ```ts
 * hookCtx("registration-after", { headers: { "Cf-Ipcountry": "DE" } }); // TypeError: Kratos does not forward this request header …
 * hookCtx("registration-after", { headers: { "Cf-Ipcountry": "DE" }, allowHeaders: ["Cf-Ipcountry"] }); // your kratos.yml lists it
 * ```
 *
 * @throws TypeError for an unknown hook, an input that is not an object, an unknown field, a
 * field of the wrong type, identity fields on a before-hook, an unknown example, a request header
 * Kratos does not forward (see `allowHeaders`), or a transient payload on `settings-after`.
 */
export function hookCtx<H extends HookId>(hook: H, input?: CtxInput): HookCtx<H>;
export function hookCtx(hook: HookId, input: CtxInput = {}): HookCtx {
  const id = toHookId("hookCtx", hook);
  const caller = `hookCtx(${id})`;
  // Checked through `unknown`: narrowing `input` itself would widen its fields' types.
  const raw: unknown = input;
  if (!isJsonObject(raw)) {
    throw new TypeError(`${caller}: expected an object of ctx fields such as { traits, schemaId, headers }, found ${kindOf(raw)}`);
  }
  for (const key of Object.keys(input)) {
    if (!(INPUT_FIELDS as readonly string[]).includes(key)) {
      throw new TypeError(`${caller}: unknown field ${JSON.stringify(key)}; the fields are: ${INPUT_FIELDS.join(", ")}`);
    }
  }
  for (const [key, [check, expected]] of Object.entries(EXPECTED)) {
    const value = input[key as keyof CtxInput];
    if (value !== undefined && !check(value)) throw new TypeError(`${caller}: ${key}: expected ${expected}, found ${kindOf(value)}`);
  }
  const given = IDENTITY_FIELDS.filter((key) => input[key] !== undefined);
  if (!factsOf(id).hasIdentity && given.length > 0) {
    throw new TypeError(`${caller}: ${given.join(", ")}: ${id} has no identity (a before-hook runs before the flow exists)`);
  }
  assertKratosSends(id, input, caller);
  const ctx = startingCtx(id, input.from, caller);
  const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));

  if (input.flow !== undefined) Object.assign(ctx.flow, clone(input.flow));
  const identity = ctx.identity;
  if (identity !== undefined) {
    if (input.traits !== undefined) {
      identity.traits = clone(input.traits);
      addTraitInputs(ctx.flow, identity.traits);
    }
    if (input.schemaId !== undefined) identity.schema_id = input.schemaId;
    if (input.metadataPublic !== undefined) identity.metadata_public = clone(input.metadataPublic);
    // Kratos omits an empty external_id (`omitempty`).
    if (input.externalId === null) delete identity.external_id;
    else if (input.externalId !== undefined) identity.external_id = input.externalId;
  }
  if (input.transientPayload === null) delete ctx.flow.transient_payload;
  else if (input.transientPayload !== undefined) ctx.flow.transient_payload = clone(input.transientPayload);
  if (input.requestedSchemaId === null) delete ctx.flow.identity_schema;
  else if (input.requestedSchemaId !== undefined) ctx.flow.identity_schema = input.requestedSchemaId;
  if (input.session === null) delete ctx.session;
  else if (input.session !== undefined) ctx.session = clone(input.session);
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    const canonical = canonicalHeader(name);
    for (const existing of Object.keys(ctx.request_headers)) {
      if (existing.toLowerCase() === name.toLowerCase()) delete ctx.request_headers[existing];
    }
    if (value === null) continue;
    if (typeof value === "string") ctx.request_headers[canonical] = [value];
    else if (Array.isArray(value) && value.every((v) => typeof v === "string")) ctx.request_headers[canonical] = [...value];
    else throw new TypeError(`${caller}: headers.${name}: expected a string, an array of strings or null, found ${kindOf(value)}`);
  }
  return tag(id, ctx);
}
