import type { Decision, Denial, HookInput, IdentityView } from "./decision.js";
import { answerProblem, claimsDenial, IDENTITY_FIELDS, type IdentityField, identityFieldValue, PolicyBugError } from "./decision-check.js";
import { jsonEqual } from "./json.js";
import { type FailMode, isBuiltInPolicy, type Policy, type PolicyContext } from "./policy.js";

export type { IdentityField } from "./decision-check.js";

/** What the policies decided: go on unchanged, or save these changes. */
export type Settled =
  | { kind: "continue" }
  | { kind: "patch"; identity: IdentityView; changed: readonly IdentityField[]; by: readonly string[] };

export type PipelineResult =
  | Settled
  | { kind: "deny"; messages: readonly Denial[]; by: string }
  /**
   * The time budget's signal fired while `by` was deciding, or after it (`none`: before any policy
   * ran). `settled`: what the policies before it had decided (normalization, routing, tags).
   */
  | { kind: "timeout"; by: string; settled: Settled; failMode: FailMode | undefined }
  /**
   * `by` threw, or returned a decision Kratos would misread: a bug, or an outage it did not handle.
   * `builtIn`: one of kratos-hooks's own policies. `settled` as for a timeout.
   */
  | { kind: "failed"; by: string; builtIn: boolean; error: PolicyBugError; settled: Settled; failMode: FailMode | undefined };

/**
 * How a timeout or a failure of `policy` is answered, when it decides that itself rather than the
 * configuration's `failMode`: a built-in policy always closed (a bug in kratos-hooks: going on
 * would store a number not in E.164 or an identity on the wrong schema), else the policy's own
 * `failMode`, if it has one.
 */
function failModeOf(policy: Policy | undefined): FailMode | undefined {
  if (policy === undefined) return undefined;
  return isBuiltInPolicy(policy) ? "closed" : policy.failMode;
}

const ABORTED = Symbol("aborted");

/** What `identity` changes of `original`: only the fields that differ, so an answer never carries a no-op change. */
function settle(original: IdentityView | undefined, identity: IdentityView | undefined, by: readonly string[]): Settled {
  if (original === undefined || identity === undefined || identity === original) return { kind: "continue" };
  const changed = IDENTITY_FIELDS.filter((field) => !jsonEqual(identityFieldValue(original, field), identityFieldValue(identity, field)));
  return changed.length === 0 ? { kind: "continue" } : { kind: "patch", identity, changed, by: [...by] };
}

/**
 * A decision, or ABORTED when the signal fires first. A synchronous decision is taken as it is;
 * a promise is raced against the signal, and its rejection after the signal fired (a `fetch`
 * given the signal) counts as the budget, not as a bug.
 */
function untilAborted(decision: Decision | Promise<Decision>, signal: AbortSignal): Decision | Promise<Decision | typeof ABORTED> {
  if (typeof decision !== "object" || decision === null || typeof (decision as Partial<PromiseLike<Decision>>).then !== "function") {
    return decision as Decision;
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(decision).then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) resolve(ABORTED);
        else reject(error);
      },
    );
  });
}

/**
 * Runs the policies that apply to the hook, in order. Patches accumulate and each later
 * policy sees the patched identity; the first deny ends the run. The result names only the
 * fields that differ from what Kratos sent, so an answer never carries a no-op change.
 * When `context.signal` fires, the run stops waiting and the result is a timeout; a policy that
 * throws or returns a decision Kratos would misread ends it as failed. Both carry what the
 * policies before had settled, for `failMode: open`. Never throws for a policy's fault.
 */
export async function runPipeline(policies: readonly Policy[], input: HookInput, context: PolicyContext): Promise<PipelineResult> {
  const original = input.identity;
  let identity = original;
  const by: string[] = [];
  // The policy whose wait used up the budget: the one running, or the last one that ran.
  let waited: Policy | undefined;
  for (const policy of policies) {
    if (!policy.hooks.has(input.hook)) continue;
    if (context.signal.aborted) {
      return { kind: "timeout", by: waited?.name ?? "none", settled: settle(original, identity, by), failMode: failModeOf(waited) };
    }
    waited = policy;
    // `closed`: a refusal whose messages are broken is still a refusal, never an acceptance.
    const failed = (error: PolicyBugError, closed = false): PipelineResult => ({
      kind: "failed",
      by: policy.name,
      builtIn: isBuiltInPolicy(policy),
      error,
      settled: settle(original, identity, by),
      failMode: closed ? "closed" : failModeOf(policy),
    });
    let decision: Decision | typeof ABORTED;
    try {
      decision = await untilAborted(policy.decide(identity === original ? input : { ...input, identity }, context), context.signal);
    } catch (error) {
      // Named, so the log line says whose failure it is; the cause keeps the original stack.
      return failed(
        new PolicyBugError(`policy ${policy.name} on ${input.hook} threw: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        }),
      );
    }
    if (decision === ABORTED) {
      return { kind: "timeout", by: policy.name, settled: settle(original, identity, by), failMode: failModeOf(policy) };
    }
    // Whatever a policy returns is checked before anything is answered: a decision Kratos would
    // misread (a 422 without messages fails the flow, a before-hook patch panics Kratos) is a bug,
    // and so is one that cannot be written as JSON at all (a BigInt, a cycle).
    const problem = answerProblem(decision, input.hook);
    if (problem !== null) return failed(new PolicyBugError(`policy ${policy.name} on ${input.hook}: ${problem}`), claimsDenial(decision));
    if (decision.kind === "deny") return { kind: "deny", messages: decision.messages, by: policy.name };
    if (decision.kind === "patch") {
      if (identity === undefined)
        return failed(new PolicyBugError(`policy ${policy.name} patched an identity on ${input.hook}, which has none`));
      identity = { ...identity, ...decision.identity };
      by.push(policy.name);
    }
  }
  return settle(original, identity, by);
}
