import type { Decision } from "../core/decision.js";
import { answerProblem } from "../core/decision-check.js";
import { isJsonObject } from "../core/json.js";
import type { Policy } from "../core/policy.js";

/** A promise, or anything `await` treats as one. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

/** A failure `watched` saw: the policy, what is wrong, and what it threw or returned. */
export interface Failure {
  policy: string;
  message: string;
  cause: unknown;
}

/**
 * `policy` with its `decide` watched: what it throws, or a decision the service refuses
 * (`answerProblem`: what the pipeline refuses), is recorded in `failures` as the pipeline would
 * name it, then handed on unchanged, so that the app answers it as it answers any policy's bug.
 * What fails after the time budget fired is the budget's, not a bug (the pipeline's rule).
 */
export function watched(policy: Policy, failures: Failure[]): Policy {
  const decide: Policy["decide"] = (input, context) => {
    const threw = (error: unknown) => {
      if (context.signal.aborted) return;
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ policy: policy.name, message: `policy ${policy.name} on ${input.hook} threw: ${message}`, cause: error });
    };
    const check = (decision: Decision) => {
      if (context.signal.aborted) return decision;
      const problem = answerProblem(decision, input.hook);
      if (problem !== null) {
        const message = `policy ${policy.name} on ${input.hook} returned a decision the service refuses: ${problem}`;
        failures.push({ policy: policy.name, message, cause: decision });
      }
      return decision;
    };
    let decision: Decision | Promise<Decision>;
    try {
      decision = policy.decide(input, context);
    } catch (error) {
      threw(error);
      throw error;
    }
    if (!isThenable(decision)) return check(decision);
    return Promise.resolve(decision).then(check, (error: unknown) => {
      threw(error);
      throw error;
    });
  };
  // A copy, so that everything else the policy carries (its own failMode) still holds.
  return { ...policy, decide };
}

/** What `definePolicy` returns: a name, the hooks it runs on, and `decide`. */
export function isPolicy(value: unknown): value is Policy {
  return isJsonObject(value) && typeof value.name === "string" && value.hooks instanceof Set && typeof value.decide === "function";
}
