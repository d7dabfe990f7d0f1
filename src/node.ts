/**
 * `kratos-hooks/node`: the service on Node, for your own policies and gateway rules.
 *
 * ```ts
 * import { builtInPolicies } from "kratos-hooks";
 * import { serve } from "kratos-hooks/node";
 * await serve({ policies: (config) => [...builtInPolicies(config), myPolicy] });
 * ```
 *
 * @module
 */
export { ListenError, type RunningService, type ServeOptions, serve } from "./adapters/node-service.js";
export { createRedisShieldStore, RedisShieldStore, type RedisShieldStoreOptions } from "./adapters/redis-shield-store.js";
