import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { unstable_readConfig } from "wrangler";

// The tests run offline: no telemetry, no error reports, no banner (it asks the registry for a
// newer wrangler) and no download of request.cf's data.
process.env.WRANGLER_SEND_METRICS ??= "false";
process.env.WRANGLER_SEND_ERROR_REPORTS ??= "false";
process.env.WRANGLER_HIDE_BANNER ??= "true";
process.env.DO_NOT_TRACK ??= "1";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

// The Worker as wrangler.toml declares it. Read here instead of handing the pool
// `wrangler.configPath`, which would also load .dev.vars (HOOKS_DEV_MODE=true, for `wrangler dev`
// only) into the tests.
const worker = unstable_readConfig({ config: "./wrangler.toml" });

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: worker.main,
      miniflare: {
        compatibilityDate: worker.compatibility_date,
        compatibilityFlags: worker.compatibility_flags,
        // The key the tests send; a deployed Worker gets its own with `wrangler secret put HOOKS_API_KEYS`.
        bindings: { ...worker.vars, LOG_LEVEL: "warn", HOOKS_API_KEYS: "test-key-0123456789abcdef" },
      },
    }),
  ],
  // Every test runs inside workerd, the runtime the Worker deploys to.
  test: { include: ["test/**/*.test.ts"] },
});
