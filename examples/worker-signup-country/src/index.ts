import { builtInPolicies } from "kratos-hooks";
import { createWorker, type Env as HooksEnv } from "kratos-hooks/worker";
import { signupCountry } from "./signup-country.js";

/** kratos-hooks's bindings (HOOKS_API_KEYS, HOOKS_CONFIG, …) and this Worker's KV namespace. */
export interface Env extends HooksEnv {
  SIGNUP_COUNTS: KVNamespace;
}

// The built-in policies first: normalizePhone puts the phone in E.164 before signup-country reads it.
export default createWorker<Env>({
  policies: (config, env) => [...builtInPolicies(config), signupCountry(env.SIGNUP_COUNTS, config.normalizePhone.fields)],
});
