import type { BuiltInDenial, Decision, Denial, IdentityView } from "./decision.js";
import { canPatchIdentity, type HookId } from "./hooks.js";
import { isPlainObject } from "./json.js";
import { customMessageIdProblem } from "./message-ids.js";
import { MESSAGES } from "./messages.js";

/**
 * A policy threw, or returned something no answer can be written from: answered by `failMode` (docs/library.md#when-a-policy-fails).
 *
 * ```ts
 * import { PolicyBugError } from "kratos-hooks";
 * import { hookCtx, runPolicy } from "kratos-hooks/testing";
 * await expect(runPolicy(brokenPolicy, hookCtx("registration-after"))).rejects.toThrow(PolicyBugError);
 * ```
 */
export class PolicyBugError extends Error {
  override name = "PolicyBugError";
}

/** Keys of your own messages: upper snake case, short enough for a metric label. */
const CUSTOM_KEY = /^[A-Z][A-Z0-9_]{0,63}$/;

/** The longest text a message of your own may have; a form shows it under a field. */
export const MAX_MESSAGE_TEXT = 1000;

/** What is wrong with a message of your own (`key`, `id`, `text`), or null. */
export function customMessageProblem(message: { key: unknown; id: unknown; text: unknown }): string | null {
  const { key, id, text } = message;
  if (typeof key !== "string" || !CUSTOM_KEY.test(key)) {
    return `key: expected UPPER_SNAKE_CASE of at most 64 characters, found ${JSON.stringify(key) ?? String(key)}`;
  }
  if (Object.hasOwn(MESSAGES, key)) return `key: ${key} is one of kratos-hooks's own messages; deny with it by key, or choose another key`;
  const idProblem = customMessageIdProblem(id);
  if (idProblem !== null) return `id: ${idProblem}`;
  if (typeof text !== "string" || text.trim() === "" || text.length > MAX_MESSAGE_TEXT) {
    return `text: expected the text people read (1 to ${MAX_MESSAGE_TEXT} characters), found ${typeof text === "string" ? `${text.length} characters` : typeof text}`;
  }
  return null;
}

/** A message of ours, named by its key alone: a denial without an id (a message of your own has one). */
export function isBuiltInDenial(denial: Denial): denial is BuiltInDenial {
  return denial.id === undefined;
}

/** The id and text a denial shows: ours from `MESSAGES` by its key, yours as given. */
export function messageOf(denial: Denial): { id: number; text: string } {
  return isBuiltInDenial(denial) ? MESSAGES[denial.key] : denial;
}

function denialProblem(denial: Denial): string | null {
  if (!isPlainObject(denial)) return "expected a message object";
  if (typeof denial.pointer !== "string") return "pointer: expected a JSON pointer such as #/traits/email or #/";
  if (!isPlainObject(denial.context)) return "context: expected a plain JSON object";
  if (isBuiltInDenial(denial)) {
    return typeof denial.key === "string" && Object.hasOwn(MESSAGES, denial.key)
      ? null
      : `key: ${JSON.stringify(denial.key)} is none of kratos-hooks's messages; a message of your own needs an id and a text (defineMessage)`;
  }
  return customMessageProblem(denial);
}

/** An identity field a patch may change: every field of the identity view but its id. */
export type IdentityField = Exclude<keyof IdentityView, "id">;

/** The fields a patch may change, in the order a result lists its changes and the answer writes them. */
export const IDENTITY_FIELDS: readonly IdentityField[] = ["schemaId", "traits", "metadataPublic", "externalId"];

const PATCH_FIELDS = new Set<string>(IDENTITY_FIELDS);

/**
 * A field's value as a change is compared and answered: an absent external id and a null one
 * both mean "none" (and `null` on the wire removes it).
 */
export function identityFieldValue(identity: IdentityView, field: IdentityField): unknown {
  return field === "externalId" ? (identity.externalId ?? null) : identity[field];
}

/**
 * Kratos keeps `external_id` in a VARCHAR(64) that refuses "" (`persistence/sql/migrations/sql/
 * 20250708190000000000_identities_external_id.autocommit.up.sql`, v25.4+); a longer one would
 * fail the insert with a generic error. Counted in characters (code points), as the database does.
 */
export const MAX_EXTERNAL_ID_LENGTH = 64;

/**
 * Checks a decision against what the answer writer can put on the wire for `hook`, and returns
 * what is wrong with it, or null. The pipeline ends the run as failed on a problem, so that no
 * policy, ours or yours, gets an answer to Kratos that Kratos would read other than as meant.
 */
export function decisionProblem(decision: Decision, hook: HookId): string | null {
  if (!isPlainObject(decision)) return 'expected a decision ({ kind: "continue" | "patch" | "deny" })';
  switch (decision.kind) {
    case "continue":
      return null;
    case "deny": {
      if (!Array.isArray(decision.messages) || decision.messages.length === 0) {
        // Kratos fails the flow on a 422 without messages ("got no validation errors").
        return "denied without a message";
      }
      for (const [index, denial] of decision.messages.entries()) {
        const problem = denialProblem(denial);
        if (problem !== null) return `message ${index}: ${problem}`;
      }
      return null;
    }
    case "patch": {
      // Before-hooks have a nil identity in Kratos (a patch there panics it); login-after changes are never saved.
      if (!canPatchIdentity(hook)) return `patched the identity on ${hook}, where Kratos does not save a change`;
      if (!isPlainObject(decision.identity))
        return "patch: expected identity fields ({ traits?, schemaId?, metadataPublic?, externalId? })";
      for (const [field, value] of Object.entries(decision.identity)) {
        if (!PATCH_FIELDS.has(field))
          return `patch: ${field} is not a field a hook may change (traits, schemaId, metadataPublic, externalId)`;
        if (field === "schemaId" && (typeof value !== "string" || value.trim() === "" || value !== value.trim()))
          return "patch: schemaId must be a non-empty string without surrounding white space";
        if (field === "traits" && !isPlainObject(value)) return "patch: traits must be a whole JSON object";
        if (field === "metadataPublic" && value !== null && !isPlainObject(value))
          return "patch: metadataPublic must be a JSON object or null";
        if (
          field === "externalId" &&
          value !== null &&
          (typeof value !== "string" || value === "" || [...value].length > MAX_EXTERNAL_ID_LENGTH)
        )
          return `patch: externalId must be a string of 1 to ${MAX_EXTERNAL_ID_LENGTH} characters, or null to remove it`;
      }
      return null;
    }
    default:
      return `unknown decision kind ${JSON.stringify((decision as { kind?: unknown }).kind) ?? "undefined"}`;
  }
}

/**
 * `decisionProblem`, and whether the decision can be written as JSON at all (a BigInt, a cycle):
 * the answer is its JSON. What the pipeline checks of every decision before anything is answered.
 */
export function answerProblem(decision: Decision, hook: HookId): string | null {
  try {
    const problem = decisionProblem(decision, hook);
    if (problem !== null) return problem;
    JSON.stringify(decision);
    return null;
  } catch (error) {
    return `the decision cannot be written as JSON (${error instanceof Error ? error.message : String(error)})`;
  }
}

/** Whether a value is meant as a refusal, however broken: a refusal whose messages are broken still refuses. */
export function claimsDenial(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "deny";
}
