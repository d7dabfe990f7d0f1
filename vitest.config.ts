import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The end-to-end suite needs Kratos: `npm run test:e2e` (vitest.e2e.config.ts).
    exclude: [...configDefaults.exclude, "test/e2e/**"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 20_000,
  },
});
