import { defineConfig } from "vitest/config";

export default defineConfig({
  // Each test starts the example as a real process: files and tests run one at a time.
  test: { include: ["test/**/*.test.ts"], testTimeout: 30_000, fileParallelism: false },
});
