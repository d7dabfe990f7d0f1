import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { DurableObjectShieldStore } from "../../src/adapters/worker-shield-store.js";
import { shieldStoreContract } from "../support/shield-store-contract.js";

// The Durable Object store inside workerd (the Worker's own ShieldCounters, bound as SHIELD in
// vitest.config.ts), against the same contract as the memory and Redis stores.
shieldStoreContract("durable-object", () => new DurableObjectShieldStore(env.SHIELD));

/** What a key's object holds: its stored entries and its alarm. */
function storedFor(key: string): Promise<{ keys: string[]; alarm: number | null }> {
  return runInDurableObject(env.SHIELD.getByName(key), async (_, state) => ({
    keys: [...state.storage.kv.list()].map(([k]) => k),
    alarm: await state.storage.getAlarm(),
  }));
}

// What the contract cannot see: a counter's storage does not outlive its window.
describe("the Durable Object store's storage", () => {
  const store = new DurableObjectShieldStore(env.SHIELD);
  let n = 0;
  const key = (label: string) => `kh:test:do-storage:${Date.now()}:${n++}:${label}`;

  it("sets an alarm at the end of the window, and the alarm deletes the object's storage", async () => {
    const k = key("alarm");
    const [counter] = await store.hit([{ key: k, windowMs: 200 }], Date.now());
    expect(await storedFor(k)).toEqual({ keys: ["entry"], alarm: counter?.resetAt });
    // A later hit in the window neither moves the alarm nor the window's end.
    await store.hit([{ key: k, windowMs: 60_000 }], Date.now());
    expect((await storedFor(k)).alarm).toBe(counter?.resetAt);
    // Nothing reads the key again: the alarm alone empties the object.
    await vi.waitFor(async () => expect(await storedFor(k)).toEqual({ keys: [], alarm: null }), { timeout: 3_000, interval: 50 });
  });

  it("gives a note an alarm at the end of its time", async () => {
    const k = key("note");
    const now = Date.now();
    await store.put(k, "refused", 60_000, now);
    expect(await storedFor(k)).toEqual({ keys: ["entry"], alarm: now + 60_000 });
  });

  it("leaves nothing behind after a reset, alarm included", async () => {
    const k = key("reset");
    await store.hit([{ key: k, windowMs: 60_000 }], Date.now());
    await store.reset([k]);
    expect(await storedFor(k)).toEqual({ keys: [], alarm: null });
  });

  it("deletes an expired entry when it is read, before its alarm has run", async () => {
    const k = key("late-alarm");
    const now = Date.now();
    await store.hit([{ key: k, windowMs: 60_000 }], now);
    // Read as if the window were over (the caller's clock): nothing is returned and the entry goes.
    expect(await store.peek([k], now + 60_000)).toEqual([undefined]);
    expect((await storedFor(k)).keys).toEqual([]);
  });
});
