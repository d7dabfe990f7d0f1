// The test Worker's bindings beyond wrangler.toml's [vars] (vitest.config.ts), for `env` from
// "cloudflare:workers".
declare namespace Cloudflare {
  interface Env {
    /** The shield's counters: `ShieldCounters` from the Worker's main module. */
    SHIELD: DurableObjectNamespace;
  }
}
