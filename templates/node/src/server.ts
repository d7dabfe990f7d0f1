// The hooks service on Node (`npm start`): kratos-hooks's built-in policies, yours after them,
// and your gateway rules. Its settings come from the environment: PORT, HOST, HOOKS_API_KEYS,
// HOOKS_CONFIG_FILE, GATEWAY_KRATOS_URL, … (.env.example).
import { builtInPolicies, ConfigError } from "kratos-hooks";
import { ListenError, serve } from "kratos-hooks/node";
import { logSubmissions } from "./gateway/log-submissions.js";
import { tagSignup } from "./policies/tag-signup.js";

try {
  await serve({
    // Loopback unless HOST says otherwise: without HOOKS_API_KEYS the service accepts the
    // development key, so it listens on other interfaces (HOST=0.0.0.0 in a container) only when
    // you set HOST, and HOOKS_API_KEYS with it.
    env: { ...process.env, HOST: process.env.HOST || "127.0.0.1" },
    policies: (config) => [...builtInPolicies(config), tagSignup],
    // The gateway runs when GATEWAY_KRATOS_URL is set.
    gatewayRules: [logSubmissions()],
    // SIGTERM and SIGINT drain the listeners, then exit.
    handleSignals: true,
  });
} catch (error) {
  if (!(error instanceof ConfigError) && !(error instanceof ListenError)) throw error;
  // A setting to fix or a port in use: the message names it, no stack trace needed. 78 is
  // EX_CONFIG, so that a supervisor can tell a configuration error from a crash.
  process.stderr.write(`kratos-hooks: ${error.message}\n`);
  process.exit(error instanceof ConfigError ? 78 : 1);
}
