import type { Denial, HookInput, IdentityView, JsonObject } from "../core/decision.js";
import { type HookId, hooksWhere } from "../core/hooks.js";
import { getPath, isBlank, isJsonObject, jsonEqual } from "../core/json.js";
import { appendKeys, fieldPathOf } from "../core/json-pointer.js";
import { MESSAGES } from "../core/messages.js";
import { toE164 } from "../core/phone.js";
import type { ResolvedRegion } from "../core/phone-region.js";
import { type IdentityField, runPipeline } from "../core/pipeline.js";
import type { Policy, PolicyContext } from "../core/policy.js";

/** An address as Kratos stores it on an identity (`identity/identity_verification.go`, `identity_recovery.go`). */
export interface StoredAddress {
  value: string;
  via: string;
}

/** The part of a stored identity (admin API JSON) the backfill reads. */
export interface StoredIdentity {
  id: string;
  schema_id: string;
  traits: JsonObject;
  metadata_public?: JsonObject | null;
  verifiable_addresses?: StoredAddress[];
  recovery_addresses?: StoredAddress[];
}

/** What the hooks would make of a stored identity, were it signing up today. */
export type Plan =
  | { kind: "unchanged" }
  /** A denial on a phone field: not a number, no region, a type or country not allowed. */
  | { kind: "invalid"; key: string; field: string; context: JsonObject }
  /** Any other denial (a disposable email domain, a routed identity its target schema refuses). */
  | { kind: "denied"; key: string; field: string }
  /** Routing would drop traits that hold data: the backfill never deletes what a person entered. */
  | { kind: "drops"; traits: string[] }
  | { kind: "change"; result: IdentityView; changed: readonly IdentityField[] };

/** `#/traits/contact/mobile` → `traits.contact.mobile`; `#/` (or no Kratos pointer) → `(global)`. */
function fieldOf(pointer: string): string {
  return fieldPathOf(pointer) ?? "(global)";
}

/** The hook whose pipeline creates identities: a stored identity is brought to its rules. */
const REPLAY_HOOK: HookId = (() => {
  const [hook, ...more] = hooksWhere((facts) => facts.createsIdentity);
  if (hook === undefined || more.length > 0) throw new Error("the hook table must name exactly one hook that creates identities");
  return hook;
})();

/** A backfill has no hook deadline: the policies get a signal that never fires, and log nowhere. */
const REPLAY_CONTEXT: PolicyContext = {
  signal: new AbortController().signal,
  logger: { info() {}, warn() {}, error() {} },
};

/**
 * Runs the registration-after policies (the hook's own pipeline) on a stored identity. The input
 * is what a sign-up of this identity would send, without a request: no transient payload, no
 * headers, so the region is the configured default (or `--region`).
 */
export async function planIdentity(identity: StoredIdentity, policies: readonly Policy[]): Promise<Plan> {
  const input: HookInput = {
    hook: REPLAY_HOOK,
    transientPayload: undefined,
    requestedSchemaId: undefined,
    headers: new Map(),
    identity: { schemaId: identity.schema_id, traits: identity.traits, metadataPublic: identity.metadata_public ?? null },
  };
  const result = await runPipeline(policies, input, REPLAY_CONTEXT);
  if (result.kind === "timeout") throw new Error(`policy ${result.by} timed out on a signal that never fires`);
  // A policy's failure is a bug here: no failMode applies to a rewrite of stored identities.
  if (result.kind === "failed") throw result.error;
  if (result.kind === "continue") return { kind: "unchanged" };
  if (result.kind === "deny") {
    // A denial holds at least one message (the pipeline refuses one without); the first decides.
    const first = result.messages[0] as Denial;
    const field = fieldOf(first.pointer);
    // A number not usable as typed is "invalid" (fix the data); any other refusal is a policy's "denied".
    return first.id === undefined && MESSAGES[first.key].category === "phone"
      ? { kind: "invalid", key: first.key, field, context: first.context }
      : { kind: "denied", key: first.key, field };
  }
  // A blank trait (an empty optional form field) holds nothing; any other trait routing would drop does.
  const dropped = Object.keys(identity.traits).filter((key) => !(key in result.identity.traits) && !isBlank(identity.traits[key]));
  if (dropped.length > 0) return { kind: "drops", traits: dropped };
  return { kind: "change", result: result.identity, changed: result.changed };
}

/**
 * The E.164 form of each configured phone trait that normalizes in the region: what the
 * collision check groups identities by, those already in E.164 included.
 */
export function phonesOf(identity: StoredIdentity, fields: readonly string[], region: ResolvedRegion): string[] {
  const phones = new Set<string>();
  for (const field of fields) {
    const value = getPath(identity.traits, field);
    if (typeof value !== "string" || isBlank(value)) continue;
    const result = toE164(value, region.region);
    if (result.ok) phones.add(result.e164);
  }
  return [...phones];
}

/** The configured phone traits as stored: what "its phone changed since it was listed" compares. */
export function storedPhones(identity: StoredIdentity, fields: readonly string[]): (string | null)[] {
  return fields.map((field) => {
    const value = getPath(identity.traits, field);
    return typeof value === "string" ? value : value === undefined || value === null ? null : JSON.stringify(value);
  });
}

export type PatchOp = { op: "replace"; path: string; value: unknown };

/**
 * The JSON Patch that brings a stored identity to the planned result: `replace` operations only
 * (Kratos refuses `test`; a PUT would wipe the metadata it is not sent).
 * - Traits: each changed phone trait alone, unless routing removed (blank) traits, then the
 *   whole object, which Kratos validates against the (new) schema.
 * - An SMS address whose value is the old number gets the new value in the same PATCH: Kratos
 *   v1.3.1 matches addresses by exact value and would otherwise derive a new, unverified one.
 * - `schema_id` and `metadata_public` when routing changed them.
 */
export function patchFor(identity: StoredIdentity, result: IdentityView, phoneFields: readonly string[]): PatchOp[] {
  const ops: PatchOp[] = [];
  const removedTraits = Object.keys(identity.traits).some((key) => !(key in result.traits));
  const renamed = new Map<string, string>();
  for (const field of phoneFields) {
    const before = getPath(identity.traits, field);
    const after = getPath(result.traits, field);
    if (typeof before === "string" && typeof after === "string" && before !== after) renamed.set(before.trim().toLowerCase(), after);
  }
  if (removedTraits) {
    if (!jsonEqual(identity.traits, result.traits)) ops.push({ op: "replace", path: "/traits", value: result.traits });
  } else {
    for (const field of phoneFields) {
      const after = getPath(result.traits, field);
      if (after !== undefined && !jsonEqual(getPath(identity.traits, field), after))
        ops.push({ op: "replace", path: appendKeys("", "traits", ...field.split(".")), value: after });
    }
  }
  for (const list of ["verifiable_addresses", "recovery_addresses"] as const) {
    identity[list]?.forEach((address, i) => {
      const renamedTo = address.via === "sms" ? renamed.get(address.value.trim().toLowerCase()) : undefined;
      if (renamedTo !== undefined) ops.push({ op: "replace", path: appendKeys("", list, String(i), "value"), value: renamedTo });
    });
  }
  if (result.schemaId !== identity.schema_id) ops.push({ op: "replace", path: "/schema_id", value: result.schemaId });
  if (!jsonEqual(result.metadataPublic, identity.metadata_public ?? null)) {
    ops.push({ op: "replace", path: "/metadata_public", value: result.metadataPublic });
  }
  return ops;
}

/** Whether `identity` already is what `result` plans (e.g. a write of ours that committed though its answer was lost). */
export function matches(identity: StoredIdentity, result: IdentityView): boolean {
  return (
    identity.schema_id === result.schemaId &&
    jsonEqual(identity.traits, result.traits) &&
    jsonEqual(identity.metadata_public ?? null, result.metadataPublic ?? null)
  );
}

export function isStoredIdentity(value: unknown): value is StoredIdentity {
  return isJsonObject(value) && typeof value.id === "string" && typeof value.schema_id === "string" && isJsonObject(value.traits);
}
