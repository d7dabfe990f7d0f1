import type { Denial, HookInput, IdentityView } from "./decision.js";
import { jsonEqual } from "./json.js";
import type { Policy } from "./policy.js";

export type IdentityField = keyof IdentityView;

export type PipelineResult =
  | { kind: "continue" }
  | { kind: "patch"; identity: IdentityView; changed: readonly IdentityField[]; by: readonly string[] }
  | { kind: "deny"; messages: readonly Denial[]; by: string };

const FIELDS: readonly IdentityField[] = ["schemaId", "traits", "metadataPublic"];

/**
 * Runs the policies that apply to the hook, in order. Patches accumulate and each later
 * policy sees the patched identity; the first deny ends the run. The result names only the
 * fields that differ from what Kratos sent, so an answer never carries a no-op change.
 */
export async function runPipeline(policies: readonly Policy[], input: HookInput): Promise<PipelineResult> {
  const original = input.identity;
  let identity = original;
  const by: string[] = [];
  for (const policy of policies) {
    if (!policy.hooks.has(input.hook)) continue;
    const decision = await policy.decide(identity === original ? input : { ...input, identity });
    if (decision.kind === "deny") return { kind: "deny", messages: decision.messages, by: policy.name };
    if (decision.kind === "patch") {
      if (identity === undefined) throw new Error(`policy ${policy.name} patched an identity on ${input.hook}, which has none`);
      identity = { ...identity, ...decision.identity };
      by.push(policy.name);
    }
  }
  if (original === undefined || identity === undefined || identity === original) return { kind: "continue" };
  const changed = FIELDS.filter((field) => !jsonEqual(original[field], identity[field]));
  return changed.length === 0 ? { kind: "continue" } : { kind: "patch", identity, changed, by };
}
