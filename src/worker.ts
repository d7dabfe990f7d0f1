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
