import type { JsonObject } from "../../core/decision.js";
import { factsOf, type HookId } from "../../core/hooks.js";
import type { IdentitySchemaSet } from "../../core/identity-schemas.js";
import { isJsonObject, jsonEqual } from "../../core/json.js";
import { type Change, fail, type Verdict, type VerdictContext } from "./model.js";

/** Every leaf that differs between two JSON values, by dotted path. */
function diff(path: string, before: unknown, after: unknown, out: Change[]): void {
  if (jsonEqual(before, after)) return;
  if (isJsonObject(before) && isJsonObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) diff(`${path}.${key}`, before[key], after[key], out);
    return;
  }
  out.push({ path, before, after });
}

/** Which fields Kratos applies (parseWebhookResponse): raw length > 0 or non-empty. */
function appliedFields(value: JsonObject) {
  return {
    traits: value.traits !== undefined,
    schema_id: typeof value.schema_id === "string" && value.schema_id !== "",
    state: typeof value.state === "string" && value.state !== "",
    metadata_public: value.metadata_public !== undefined,
    metadata_admin: value.metadata_admin !== undefined,
    verifiable_addresses: Array.isArray(value.verifiable_addresses) && value.verifiable_addresses.length > 0,
    recovery_addresses: Array.isArray(value.recovery_addresses) && value.recovery_addresses.length > 0,
  };
}

type Applied = ReturnType<typeof appliedFields>;

/** The fail verdict for a field Kratos's Go types cannot decode, or undefined. */
function undecodable(value: JsonObject): Verdict | undefined {
  for (const key of ["schema_id", "state"] as const) {
    if (value[key] !== undefined && value[key] !== null && typeof value[key] !== "string") {
      return fail(`identity.${key} is not a string`, "Kratos cannot decode the identity and ends the flow with a 500");
    }
  }
  for (const key of ["verifiable_addresses", "recovery_addresses"] as const) {
    if (value[key] !== undefined && value[key] !== null && !Array.isArray(value[key])) {
      return fail(`identity.${key} is not an array`, "Kratos cannot decode the identity and ends the flow with a 500");
    }
  }
  return undefined;
}

/** The notes on fields Kratos ignores. */
function ignoredNotes(value: JsonObject): string[] {
  const notes: string[] = [];
  if ("external_id" in value) notes.push("identity.external_id is ignored by Kratos v1.3.1 (applied from v25.4)");
  const ignored = ["id", "credentials", "created_at", "updated_at", "organization_id", "schema_url", "state_changed_at"].filter(
    (k) => k in value,
  );
  if (ignored.length > 0) notes.push(`Kratos never applies ${ignored.map((k) => `identity.${k}`).join(", ")}`);
  return notes;
}

/** The verdict of a before-hook's identity answer: nothing to apply, or a nil identity Kratos dereferences. */
function beforeHookVerdict(applied: Applied, notes: string[]): Verdict {
  const appliedKeys = Object.entries(applied)
    .filter(([, on]) => on)
    .map(([key]) => key);
  if (appliedKeys.length === 0) {
    return { kind: "continue", headline: "Kratos continues unchanged", reason: "the identity object sets nothing Kratos applies", notes };
  }
  return fail(
    `a before-hook answered with identity fields (${appliedKeys.join(", ")})`,
    "before-hooks have no identity: Kratos dereferences a nil identity and the request panics (500)",
    notes,
  );
}

/** The identity fields Kratos stores after the answer. */
interface NextIdentity {
  schema_id: unknown;
  traits: unknown;
  metadata_public: unknown;
}

/** What changes, with the notes on a state and on addresses Kratos derives itself. */
function changesOf(current: JsonObject, next: NextIdentity, value: JsonObject, applied: Applied, hook: HookId, notes: string[]): Change[] {
  const changes: Change[] = [];
  diff("schema_id", current.schema_id, next.schema_id, changes);
  diff("traits", current.traits, next.traits, changes);
  diff("metadata_public", current.metadata_public ?? null, next.metadata_public, changes);
  if (applied.state) diff("state", current.state, value.state, changes);
  if (applied.state && value.state !== "active" && factsOf(hook).createsIdentity) {
    notes.push(
      `state ${JSON.stringify(value.state)}: Kratos creates the identity, then refuses its session ("This account was disabled.", 400)`,
    );
  }
  if (applied.metadata_admin) changes.push({ path: "metadata_admin", before: undefined, after: value.metadata_admin });
  if (applied.verifiable_addresses || applied.recovery_addresses) {
    notes.push(
      "Kratos re-derives verifiable and recovery addresses from the traits: supplied addresses only survive where a trait yields the same value",
    );
  }
  return changes;
}

/** The fail verdict when Kratos's re-validation of the changed identity refuses it, or undefined. */
function revalidated(schemaId: string, traits: unknown, context: VerdictContext, notes: string[]): Verdict | undefined {
  if (context.schemaIds !== undefined && !context.schemaIds.includes(schemaId)) {
    return fail(
      `schema_id "${schemaId}" is not in kratos.yml identity.schemas (${context.schemaIds.join(", ")})`,
      `Kratos re-validates the identity against its schema and answers "Unable to find JSON Schema ID: ${schemaId}" as a global message`,
      notes,
    );
  }
  if (context.schemas !== undefined && isJsonObject(traits)) {
    let problems: ReturnType<IdentitySchemaSet["validate"]> = [];
    try {
      problems = context.schemas.validate(schemaId, traits);
    } catch {
      notes.push(`schema "${schemaId}" was not available here: the changed identity was not re-validated`);
    }
    if (problems.length > 0) {
      return fail(
        `the changed identity is not valid for schema "${schemaId}" (${problems.map((p) => `${p.pointer}: ${p.detail}`).join("; ")})`,
        "Kratos re-validates the identity against the (new) schema after the hook and refuses it with its own validation error",
        notes,
      );
    }
  }
  return undefined;
}

/**
 * The verdict for a 200 `{"identity": {…}}`: what changed in the identity, and whether Kratos
 * saves it (`parseWebhookResponse` applies each field, then the flow validates and stores it).
 */
export function toIdentityChangeVerdict(hook: HookId, value: JsonObject, context: VerdictContext): Verdict {
  const facts = factsOf(hook);
  const current = isJsonObject(context.identity) ? context.identity : {};
  const applied = appliedFields(value);
  const broken = undecodable(value);
  if (broken !== undefined) return broken;
  const notes = ignoredNotes(value);
  if (!facts.hasIdentity) return beforeHookVerdict(applied, notes);
  if (applied.traits && !isJsonObject(value.traits)) {
    return fail(
      `identity.traits is ${value.traits === null ? "null" : `a JSON ${Array.isArray(value.traits) ? "array" : typeof value.traits}`}`,
      "Kratos replaces the traits with it and the identity then fails validation",
      notes,
    );
  }
  const next = {
    schema_id: applied.schema_id ? (value.schema_id as string) : current.schema_id,
    traits: applied.traits ? value.traits : current.traits,
    metadata_public: applied.metadata_public ? value.metadata_public : (current.metadata_public ?? null),
  };
  const changes = changesOf(current, next, value, applied, hook, notes);
  if (!facts.persistsPatch) {
    return {
      kind: "continue",
      headline: "Kratos continues; the identity changes are not saved",
      reason: `Kratos keeps a ${hook} identity change in memory for this response only and never writes it`,
      changes,
      notes,
    };
  }
  if (changes.length === 0) {
    return {
      kind: "continue",
      headline: "Kratos continues unchanged",
      reason: "the identity in the answer equals the one Kratos holds",
      notes,
    };
  }
  const schemaId = typeof next.schema_id === "string" ? next.schema_id : "";
  const refused = revalidated(schemaId, next.traits, context, notes);
  if (refused !== undefined) return refused;
  return {
    kind: "save",
    headline: `Kratos ${facts.createsIdentity ? "saves the new identity" : "saves the identity"} with these changes`,
    reason:
      'a 200 {"identity":{…}} replaces each field it sends (traits and metadata whole) before Kratos validates and stores the identity',
    changes,
    identity: { ...next, schema_id: schemaId },
    notes,
  };
}
