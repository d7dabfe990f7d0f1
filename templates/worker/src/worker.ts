// The hooks service as a Cloudflare Worker: kratos-hooks's built-in policies, yours after them,
// and your gateway rules. Its settings are wrangler.toml's [vars] and secrets (HOOKS_API_KEYS).
import { builtInPolicies } from "kratos-hooks";
import { createWorker, type Env } from "kratos-hooks/worker";
import { logSubmissions } from "./gateway/log-submissions.js";
import { tagSignup } from "./policies/tag-signup.js";

/** The Worker's bindings: kratos-hooks's. Extend it with yours (`interface Env extends HooksEnv { MY_KV: KVNamespace }`). */
export type { Env };

export default createWorker<Env>({
  policies: (config) => [...builtInPolicies(config), tagSignup],
  // The gateway runs when GATEWAY_KRATOS_URL is set, on the hostnames in GATEWAY_HOSTNAMES.
  gatewayRules: () => [logSubmissions()],
});
