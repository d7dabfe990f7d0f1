import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { configDefaults, defineConfig } from "vitest/config";
import { SHARED_CONFIG, SHARED_KEY } from "./test/support/hook-cases.js";
import { WRANGLER_OFFLINE_ENV } from "./test/worker/offline-env.js";

// Keep wrangler and Miniflare off the network (test/worker/offline-env.ts says what each does).
for (const [name, value] of Object.entries(WRANGLER_OFFLINE_ENV)) process.env[name] ??= value;

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          // The end-to-end suite needs Kratos: `npm run test:e2e` (vitest.e2e.config.ts).
          exclude: [...configDefaults.exclude, "test/e2e/**", "test/**/*.worker.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 20_000,
        },
      },
      {
        // Inside workerd, through the Worker's own entry and wrangler.toml, with the shared
        // cases' key and configuration as bindings.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: { HOOKS_API_KEYS: SHARED_KEY, HOOKS_CONFIG: JSON.stringify(SHARED_CONFIG) } },
          }),
        ],
        test: { name: "workerd", include: ["test/**/*.worker.test.ts"], globalSetup: ["test/worker/global-setup.ts"] },
      },
    ],
  },
});
