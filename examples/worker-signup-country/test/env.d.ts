// The test Worker's bindings (vitest.config.ts) and main module, for `env` and `exports` from
// "cloudflare:workers".
declare namespace Cloudflare {
  interface Env extends Required<Pick<import("../src/index.js").Env, "HOOKS_API_KEYS" | "SIGNUP_COUNTS">> {}
  interface GlobalProps {
    mainModule: typeof import("../src/index.js");
  }
}
