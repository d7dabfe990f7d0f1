import { describe, expect, it } from "vitest";
import { batchCall, batchResult } from "../../src/adapters/redis-shield-batch.js";

// The Redis script's call and answer without a server (test/redis/ runs the script itself).
describe("Redis store: the batch script's call and answer", () => {
  const batch = {
    resets: ["r"],
    forgives: ["f1", "f2"],
    hits: [
      { key: "h1", windowMs: 1000.2 },
      { key: "h2", windowMs: 0.5 },
    ],
    peeks: ["p1", "p2"],
    gets: ["g1", "g2"],
  };

  it("sends KEYS prefixed in the script's order, and ARGV: now, the counts, each window in whole ms (at least 1)", () => {
    expect(batchCall(batch, "pre:", 5000)).toEqual({
      keys: ["pre:r", "pre:f1", "pre:f2", "pre:h1", "pre:h2", "pre:p1", "pre:p2", "pre:g1", "pre:g2"],
      args: [5000, 1, 2, 2, 2, 1001, 1],
    });
    expect(batchCall({}, "", 1)).toEqual({ keys: [], args: [1, 0, 0, 0, 0] });
  });

  it("reads a triple per hit, a quadruple per peek, then the notes", () => {
    const out = [1, 6000, 0, 3, 0, 1, 2, 7000, 4500, 1, 0, 0, 0, 0, "note", null];
    expect(batchResult(batch, out, 5000)).toEqual({
      hits: [
        { count: 1, resetAt: 6000, forgiven: 0, lastAt: 5000 },
        // No window's end in the answer: now.
        { count: 3, resetAt: 5000, forgiven: 1, lastAt: 5000 },
      ],
      peeks: [{ count: 2, resetAt: 7000, lastAt: 4500, forgiven: 1 }, undefined],
      gets: ["note", undefined],
    });
  });

  it("a peek's negative end is a TTL (a counter written before the end was kept): now plus it", () => {
    expect(batchResult({ peeks: ["p"] }, [2, -300, 4000, 0], 5000).peeks).toEqual([{ count: 2, resetAt: 5300, lastAt: 4000, forgiven: 0 }]);
  });
});
