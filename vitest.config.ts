import { readFileSync } from "node:fs";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { configDefaults, defineConfig, type Plugin } from "vitest/config";
import { unstable_readConfig } from "wrangler";
import { SHARED_CONFIG, SHARED_KEY } from "./test/support/hook-cases.js";
import { WRANGLER_OFFLINE_ENV } from "./test/worker/offline-env.js";

// Keep wrangler and Miniflare off the network (test/worker/offline-env.ts says what each does).
for (const [name, value] of Object.entries(WRANGLER_OFFLINE_ENV)) process.env[name] ??= value;

// The Worker as wrangler.toml declares it: entry, compatibility settings and [vars]. Read here rather
// than given to the pool as `wrangler.configPath`, which would also load .dev.vars (for `wrangler
// dev` only: HOOKS_DEV_MODE=true) into every test Worker and say so once per test file.
const worker = unstable_readConfig({ config: "./wrangler.toml" });

// disposable-email-domains-js ships dist/index.js.map, whose sources (../src) it does not ship, so
// Vite warns "points to missing source files" when it loads the file with its map. It is loaded
// here without the map: a stack trace then names dist/index.js, which is all the package has.
const NO_SOURCEMAP = /\/node_modules\/disposable-email-domains-js\/dist\/index\.js$/;
const withoutBrokenSourcemap: Plugin = {
  name: "without-broken-sourcemap",
  load(id) {
    if (!NO_SOURCEMAP.test(id)) return null;
    return { code: readFileSync(id, "utf8").replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"), map: null };
  },
};

// Kept on a green run: workerd's "exception = workerd/api/web-socket.c++:…: disconnected: WebSocket
// peer disconnected", once per test file. It is the pool closing its own socket to the file's
// runner, not a socket of ours; workerd writes it past any hook this config has, and
// @cloudflare/vitest-pool-workers drops it itself in releases after PR #13833 (0.15.1 is pinned
// here with workerd 1.20260426, see wrangler.toml).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          // The end-to-end suite needs Kratos: `npm run test:e2e` (vitest.e2e.config.ts).
          exclude: [...configDefaults.exclude, "test/e2e/**", "test/package/**", "test/redis/**", "test/**/*.worker.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 20_000,
        },
      },
      {
        // Inside workerd, through the Worker's own entry and wrangler.toml, with the shared
        // cases' key and configuration as bindings.
        plugins: [
          withoutBrokenSourcemap,
          cloudflareTest({
            main: worker.main,
            miniflare: {
              compatibilityDate: worker.compatibility_date,
              compatibilityFlags: worker.compatibility_flags,
              bindings: { ...worker.vars, HOOKS_API_KEYS: SHARED_KEY, HOOKS_CONFIG: JSON.stringify(SHARED_CONFIG) },
              // The shield's store, as wrangler.toml's [env.shield] binds it (the top level, read
              // above, has no Durable Objects): the class comes from `main`'s exports.
              durableObjects: { SHIELD: { className: "ShieldCounters", useSQLite: true } },
            },
          }),
        ],
        test: { name: "workerd", include: ["test/**/*.worker.test.ts"], globalSetup: ["test/worker/global-setup.ts"] },
      },
    ],
  },
});
