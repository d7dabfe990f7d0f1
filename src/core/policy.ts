import type { Decision, HookInput } from "./decision.js";
import type { HookId } from "./hooks.js";
import type { Logger } from "./logger.js";

/** What a policy may use besides its input. Nothing reaches a policy through globals. */
export interface PolicyContext {
  /**
   * Fires when the hook call's time budget (`budgetMs`) is spent. A policy that waits on I/O
   * passes it on (`fetch(url, { signal })`); the pipeline stops waiting for it either way.
   */
  signal: AbortSignal;
  /** The service's logger; never log a phone number, email, password or token in clear. */
  logger: Logger;
  /**
   * Kratos's `Ory-Webhook-Trigger-ID` (v25.4+): one id per hook execution, the same on each of
   * Kratos's retries, so a policy with side effects can key them on it and do them once.
   * Undefined when Kratos sends none (v1.3.1, or `emit_analytics_event: false`) or a malformed one.
   */
  triggerId?: string | undefined;
}

/** How a timeout or a failure is answered: `closed` refuses (HOOK_TIMEOUT, HOOK_FAILED), `open` goes on with what was decided before. */
export type FailMode = "open" | "closed";

/**
 * A policy decides on one hook call: continue, patch the identity, or deny with messages.
 * The built-in policies are synchronous and decide from their input and the configuration alone
 * (routeSchema also logs, through `context.logger`, when it leaves or refuses the schema a client
 * asked for). A policy may be async when it must wait on a peer; the time budget bounds that
 * waiting, never CPU work: a synchronous `decide` runs to its end, and the budget's timer cannot
 * fire until the run waits on something.
 */
export interface Policy {
  name: string;
  hooks: ReadonlySet<HookId>;
  /**
   * How this policy's timeout or failure is answered, over the configuration's `failMode`: set
   * `closed` on a policy that guards (an invite check), `open` on one that only enriches (a tag).
   * Built-in policies are always closed.
   */
  failMode?: FailMode | undefined;
  decide(input: HookInput, context: PolicyContext): Decision | Promise<Decision>;
}

const BUILT_IN = new WeakSet<Policy>();

/** Marks one of kratos-hooks's own policies (src/core/policies): their failures are always answered closed. */
export function builtIn<P extends Policy>(policy: P): P {
  BUILT_IN.add(policy);
  return policy;
}

/** Whether `policy` is one of kratos-hooks's own (`builtInPolicies(config)`). */
export function isBuiltInPolicy(policy: Policy): boolean {
  return BUILT_IN.has(policy);
}
