import { type Denial, GLOBAL_POINTER, type IdentityView } from "../core/decision.js";
import { canPatchIdentity, type HookId } from "../core/hooks.js";
import { MESSAGES } from "../core/messages.js";
import type { IdentityField, PipelineResult } from "../core/pipeline.js";

/** An answer exactly as Kratos's `web_hook` with `response.parse: true` reads it. */
export interface KratosAnswer {
  status: 200 | 204 | 422;
  /** JSON text, or null for an empty body. */
  body: string | null;
}

/** The status for policy denials: a 4xx other than 429, so Kratos parses messages instead of retrying. */
export const DENY_STATUS = 422;

// Our field names → Kratos's identity JSON keys (`identity/identity.go`).
export const WIRE_KEYS: Record<IdentityField, string> = {
  schemaId: "schema_id",
  traits: "traits",
  metadataPublic: "metadata_public",
};

/**
 * `{"messages":[{"instance_ptr","messages":[{id,text,type,context}]}]}`, one entry per pointer
 * in first-seen order (`selfservice/hook/web_hook.go` `rawHookResponse`). `instance_ptr` always
 * starts with `#/`: anything else makes Kratos add a junk input node to the form.
 */
export function toMessagesBody(denials: readonly Denial[]): string {
  const groups = new Map<string, { id: number; text: string; type: "error"; context: object }[]>();
  for (const denial of denials) {
    const pointer = denial.pointer.startsWith("#/") ? denial.pointer : GLOBAL_POINTER;
    const { id, text } = MESSAGES[denial.key];
    const list = groups.get(pointer) ?? [];
    list.push({ id, text, type: "error", context: denial.context });
    groups.set(pointer, list);
  }
  return JSON.stringify({
    messages: [...groups].map(([instance_ptr, messages]) => ({ instance_ptr, messages })),
  });
}

/**
 * Turns a pipeline result into the answer Kratos expects. The only module that knows the wire
 * format: 204 for no change; 200 `{"identity": …}` with only the changed top-level fields, each
 * whole (Kratos replaces `traits` and metadata wholesale, `web_hook.go` `parseWebhookResponse`);
 * 422 with messages for a denial.
 */
export function toKratosResponse(hook: HookId, result: PipelineResult): KratosAnswer {
  switch (result.kind) {
    case "continue":
      return { status: 204, body: null };
    case "deny":
      return { status: DENY_STATUS, body: toMessagesBody(result.messages) };
    case "patch": {
      // Before-hooks have a nil identity in Kratos (a patch there panics it); login-after
      // changes are never persisted. Reaching this is a bug in a policy, not bad input.
      if (!canPatchIdentity(hook)) throw new Error(`an identity patch cannot be answered on ${hook}`);
      const identity: Record<string, unknown> = {};
      for (const field of result.changed) identity[WIRE_KEYS[field]] = result.identity[field] satisfies IdentityView[typeof field];
      return { status: 200, body: JSON.stringify({ identity }) };
    }
  }
}
