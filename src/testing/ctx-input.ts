import { factsOf, type HookId } from "../core/hooks.js";
import { isJsonObject } from "../core/json.js";
import { KRATOS_DEFAULT_HEADER_ALLOWLIST } from "../kratos/header-allowlist.js";
import type { CtxInput } from "./ctx-types.js";

/** The fields `hookCtx` takes. */
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
/** The fields that set the identity, which a before-hook has not. */
const IDENTITY_FIELDS: readonly (keyof CtxInput)[] = ["traits", "schemaId", "metadataPublic", "externalId"];

/** How an error message names a value of the wrong kind. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

type Check = (value: unknown) => boolean;
const isObject: Check = isJsonObject;
const orNull =
  (check: Check): Check =>
  (value) =>
    value === null || check(value);
const isNonEmptyString: Check = (value) => typeof value === "string" && value !== "";

/** What each field must hold, and how an error message says it. */
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

/** Kratos's default header allowlist, lower case: names compare case-insensitively, as Go's canonical form does. */
const FORWARDED_BY_DEFAULT: ReadonlySet<string> = new Set(KRATOS_DEFAULT_HEADER_ALLOWLIST.map((name) => name.toLowerCase()));

/**
 * Refuses what Kratos never puts in this hook's ctx, so that a test cannot pass for a policy that
 * reads it: a request header outside Kratos's allowlist (`src/kratos/header-allowlist.ts`,
 * as `try` judges it), and a transient payload on a settings hook (v26.2.0 sends none there; `try` drops it).
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
 * Refuses a `hookCtx` input that is not one: not an object, an unknown field, a field of the
 * wrong type, identity fields on a before-hook, or what Kratos never sends (`assertKratosSends`).
 */
export function checkCtxInput(hook: HookId, input: CtxInput, caller: string): void {
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
  if (!factsOf(hook).hasIdentity && given.length > 0) {
    throw new TypeError(`${caller}: ${given.join(", ")}: ${hook} has no identity (a before-hook runs before the flow exists)`);
  }
  assertKratosSends(hook, input, caller);
}
