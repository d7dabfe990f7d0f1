import { defineConfig } from "vitest/config";

// `npm run test:redis`: the shield's Redis store against a redis-server of its own (Debian's
// package; test/support/redis-server.ts starts one per file on a free port and fails, never skips,
// when the binary is missing). Not part of `npm test`, which needs nothing but Node.
export default defineConfig({
  test: {
    include: ["test/redis/**/*.redis.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
