// The test Worker's bindings (vitest.config.ts) and main module, for `env` and `exports` from
// "cloudflare:workers".
declare namespace Cloudflare {
  interface Env extends Required<Pick<import("../src/worker.js").Env, "HOOKS_API_KEYS">> {}
  interface GlobalProps {
    mainModule: typeof import("../src/worker.js");
  }
}
