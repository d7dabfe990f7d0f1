import { defineConfig } from "vitest/config";

// `npm run test:e2e`: our Node service and a real Kratos (built from its Go module, or KRATOS_BIN)
// as processes on loopback. Files run one at a time: each starts its own Kratos.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.test.ts"],
    globalSetup: ["test/support/global-setup.ts", "test/e2e/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
});
