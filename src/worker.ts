/**
 * `kratos-hooks/worker`: the service as a Cloudflare Worker, for your own policies and gateway
 * rules. Worker-safe: nothing here needs a Node API (no `nodejs_compat`).
 *
 * ```ts
 * import { builtInPolicies } from "kratos-hooks";
 * import { createWorker } from "kratos-hooks/worker";
 * export default createWorker({ policies: (config, env) => [...builtInPolicies(config), myPolicy] });
 * ```
 *
 * @module
 */
export { createWorker, type Env, type WorkerHandler, type WorkerOptions } from "./adapters/worker-handler.js";
// The shield's Durable Object class: a Worker with its own main module re-exports it to bind it.
export { ShieldCounters } from "./adapters/worker-shield-store.js";
