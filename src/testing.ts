/**
 * `kratos-hooks/testing`: test your policies the way kratos-hooks tests its own, on Node and in
 * workerd. Build the ctx Kratos sends (`hookCtx`, `exampleCtx`), run a policy through the real
 * app (`runPolicy`) or call an app of your own (`callHook`), and read the answer as Kratos would:
 * the verdict `kratos-hooks try` prints, as plain data.
 *
 * ```ts
 * import { hookCtx, runPolicy } from "kratos-hooks/testing";
 * const verdict = await runPolicy(myPolicy, hookCtx("registration-after", { traits: { email: "a@blocked.example" } }));
 * expect(verdict.kind, verdict.explanation).toBe("refuse");
 * expect(verdict.messages).toEqual([{ field: "traits.email", id: 4190001, text: "This domain is closed." }]);
 * ```
 *
 * @module
 */
export { type CallHookOptions, callHook, type HookApp, type RunPolicyOptions, runPolicy } from "./testing/call.js";
export { hookCtx } from "./testing/ctx.js";
export type { CtxInput, HookCtx, KratosCtx, KratosIdentity } from "./testing/ctx-types.js";
export { DEFAULT_EXAMPLES, exampleCtx, exampleNames } from "./testing/example-ctx.js";
export type { Verdict, VerdictChange, VerdictFailure, VerdictKind, VerdictMessage } from "./testing/verdict.js";
