import { type Denial, GLOBAL_POINTER } from "../core/decision.js";
import { type IdentityField, identityFieldValue, messageOf } from "../core/decision-check.js";
import { canPatchIdentity, type HookId } from "../core/hooks.js";
import { STATUS } from "../core/http-status.js";
import type { PipelineResult } from "../core/pipeline.js";
import type { FailMode } from "../core/policy.js";

/** An answer exactly as Kratos's `web_hook` with `response.parse: true` reads it. */
export interface KratosAnswer {
  status: typeof STATUS.ok | typeof STATUS.noContent | typeof STATUS.unprocessable;
  /** JSON text, or null for an empty body. */
  body: string | null;
  /** The message keys in the body (ours, and your own policies'), for the log line and metrics. */
  messages: readonly string[];
  /** The identity keys the body replaces (`traits`, `schema_id`, …), for the log line. */
  changes: readonly string[];
}

/** What the operator chose for a hook whose policy runs out of time or fails (`failMode`). */
export interface AnswerOptions {
  failMode: "open" | "closed";
}

/** The status for policy denials: a 4xx other than 429, so Kratos parses messages instead of retrying. */
const DENY_STATUS = STATUS.unprocessable;

// Our field names → Kratos's identity JSON keys (`identity/identity.go`).
const WIRE_KEYS: Record<IdentityField, string> = {
  schemaId: "schema_id",
  traits: "traits",
  metadataPublic: "metadata_public",
  externalId: "external_id",
};

/**
 * `{"messages":[{"instance_ptr","messages":[{id,text,type,context}]}]}`, one entry per pointer
 * in first-seen order (`selfservice/hook/web_hook.go` `rawHookResponse`). `instance_ptr` always
 * starts with `#/`: anything else makes Kratos add a junk input node to the form.
 */
function toMessagesBody(denials: readonly Denial[]): string {
  const groups = new Map<string, { id: number; text: string; type: "error"; context: object }[]>();
  for (const denial of denials) {
    const pointer = denial.pointer.startsWith("#/") ? denial.pointer : GLOBAL_POINTER;
    const { id, text } = messageOf(denial);
    const list = groups.get(pointer) ?? [];
    list.push({ id, text, type: "error", context: denial.context });
    groups.set(pointer, list);
  }
  return JSON.stringify({
    messages: [...groups].map(([instance_ptr, messages]) => ({ instance_ptr, messages })),
  });
}

const CONTINUE_ANSWER: KratosAnswer = { status: STATUS.noContent, body: null, messages: [], changes: [] };

const TIMEOUT_DENIAL: Denial = { key: "HOOK_TIMEOUT", pointer: GLOBAL_POINTER, context: { reason: "timeout" } };
const FAILED_DENIAL: Denial = { key: "HOOK_FAILED", pointer: GLOBAL_POINTER, context: { reason: "error" } };

function denied(denials: readonly Denial[]): KratosAnswer {
  return { status: DENY_STATUS, body: toMessagesBody(denials), messages: denials.map((d) => d.key), changes: [] };
}

/** How a timeout or a failure is answered: by the failing policy's own mode, else by `failMode`. */
export function answeredFailMode(result: { failMode: FailMode | undefined }, options: AnswerOptions): FailMode {
  return result.failMode ?? options.failMode;
}

/**
 * Turns a pipeline result into the answer Kratos expects. The only module that knows the wire
 * format: 204 for no change; 200 `{"identity": …}` with only the changed top-level fields, each
 * whole (Kratos replaces `traits` and metadata wholesale, `web_hook.go` `parseWebhookResponse`);
 * 422 with messages for a denial. A timeout or a policy's failure follows `failMode`: closed
 * refuses with the global HOOK_TIMEOUT or HOOK_FAILED message, open answers what the policies
 * before it had settled (204, or their patch). The failing policy's own mode comes first: a
 * built-in policy is always closed (a bug in kratos-hooks: going on would save a number not in
 * E.164 or a schema not routed), a broken refusal too, and a policy may set its own `failMode`.
 */
export function toKratosResponse(hook: HookId, result: PipelineResult, options: AnswerOptions): KratosAnswer {
  switch (result.kind) {
    case "continue":
      return CONTINUE_ANSWER;
    case "deny":
      return denied(result.messages);
    case "timeout":
      return answeredFailMode(result, options) === "closed" ? denied([TIMEOUT_DENIAL]) : toKratosResponse(hook, result.settled, options);
    case "failed":
      return answeredFailMode(result, options) === "closed" ? denied([FAILED_DENIAL]) : toKratosResponse(hook, result.settled, options);
    case "patch": {
      // Before-hooks have a nil identity in Kratos (a patch there panics it); login-after
      // changes are never persisted. Reaching this is a bug in a policy, not bad input.
      if (!canPatchIdentity(hook)) throw new Error(`an identity patch cannot be answered on ${hook}`);
      // `{"identity":{}}` would make Kratos decode an empty identity; nothing changed is a 204.
      if (result.changed.length === 0) return CONTINUE_ANSWER;
      const identity: Record<string, unknown> = {};
      const changes = result.changed.map((field) => WIRE_KEYS[field]);
      for (const field of result.changed) identity[WIRE_KEYS[field]] = identityFieldValue(result.identity, field);
      return { status: STATUS.ok, body: JSON.stringify({ identity }), messages: [], changes };
    }
  }
}
