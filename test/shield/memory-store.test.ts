import { expect, it } from "vitest";
import { MemoryStore } from "../../src/gateway/shield/memory-store.js";
import { shieldStoreContract } from "../support/shield-store-contract.js";

shieldStoreContract("memory", () => new MemoryStore());

it("holds at most maxKeys keys, dropping the oldest", async () => {
  const store = new MemoryStore({ maxKeys: 3 });
  const now = Date.now();
  for (const k of ["a", "b", "c", "d"]) await store.hit([{ key: k, windowMs: 60_000 }], now);
  expect(store.size).toBe(3);
  expect((await store.peek(["a", "d"], now)).map((c) => c?.count)).toEqual([undefined, 1]);
});
