import type { JsonObject } from "../core/decision.js";
import type { HookId } from "../core/hooks.js";
import { isJsonObject } from "../core/json.js";
import { canonicalHeaderKey } from "../kratos/header-allowlist.js";
import { checkCtxInput, kindOf } from "./ctx-input.js";
import { type CtxInput, type HookCtx, type KratosCtx, type KratosIdentity, tag, toHookId } from "./ctx-types.js";
import { completed, DEFAULT_EXAMPLES, exampleCtx, exampleNames } from "./example-ctx.js";
import { EXAMPLE_TEXTS } from "./examples.js";

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

/** The ctx `hookCtx` starts from: the default example, the one `from` names, or a copy of `from`, filled in (`completed`). */
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

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));

/** Sets the identity fields `input` gives; new traits get their form inputs. */
function setIdentity(flow: JsonObject, identity: KratosIdentity, input: CtxInput): void {
  if (input.traits !== undefined) {
    identity.traits = clone(input.traits);
    addTraitInputs(flow, identity.traits);
  }
  if (input.schemaId !== undefined) identity.schema_id = input.schemaId;
  if (input.metadataPublic !== undefined) identity.metadata_public = clone(input.metadataPublic);
  // Kratos omits an empty external_id (`omitempty`).
  if (input.externalId === null) delete identity.external_id;
  else if (input.externalId !== undefined) identity.external_id = input.externalId;
}

/** Merges `headers` into `request_headers` by name, case-insensitively, under the names Kratos writes; null removes one. */
function setHeaders(requestHeaders: KratosCtx["request_headers"], headers: NonNullable<CtxInput["headers"]>, caller: string): void {
  for (const [name, value] of Object.entries(headers)) {
    const canonical = canonicalHeaderKey(name);
    for (const existing of Object.keys(requestHeaders)) {
      if (existing.toLowerCase() === name.toLowerCase()) delete requestHeaders[existing];
    }
    if (value === null) continue;
    if (typeof value === "string") requestHeaders[canonical] = [value];
    else if (Array.isArray(value) && value.every((v) => typeof v === "string")) requestHeaders[canonical] = [...value];
    else throw new TypeError(`${caller}: headers.${name}: expected a string, an array of strings or null, found ${kindOf(value)}`);
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
  checkCtxInput(id, input, caller);
  const ctx = startingCtx(id, input.from, caller);
  if (input.flow !== undefined) Object.assign(ctx.flow, clone(input.flow));
  if (ctx.identity !== undefined) setIdentity(ctx.flow, ctx.identity, input);
  if (input.transientPayload === null) delete ctx.flow.transient_payload;
  else if (input.transientPayload !== undefined) ctx.flow.transient_payload = clone(input.transientPayload);
  if (input.requestedSchemaId === null) delete ctx.flow.identity_schema;
  else if (input.requestedSchemaId !== undefined) ctx.flow.identity_schema = input.requestedSchemaId;
  if (input.session === null) delete ctx.session;
  else if (input.session !== undefined) ctx.session = clone(input.session);
  setHeaders(ctx.request_headers, input.headers ?? {}, caller);
  return tag(id, ctx);
}
