import { defineConfig } from "vitest/config";

// `npm run test:package`: the package as others install it. `npm pack`, the tarball installed into
// a temporary project with both examples and the docs' snippets, each built and tested there.
export default defineConfig({
  test: {
    include: ["test/package/**/*.package.test.ts"],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
