import type { Decision, HookInput } from "./decision.js";
import type { HookId } from "./hooks.js";

/**
 * A policy decides on one hook call: continue, patch the identity, or deny with messages.
 * It is pure: no I/O, no clock, no globals. It may be async so that a later policy can
 * consult a peer (the Kratos admin API) within the hook's time budget.
 */
export interface Policy {
  name: string;
  hooks: ReadonlySet<HookId>;
  decide(input: HookInput): Decision | Promise<Decision>;
}
