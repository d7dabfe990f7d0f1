import { describe, expect, it } from "vitest";
import { batchOf, type ShieldStore } from "../../src/gateway/shield/store.js";

/**
 * What every shield store must do (memory, Redis, Durable Objects), run against each by its own
 * suite. `make` returns a fresh, empty store; keys are unique per test so one store may be reused.
 * Windows are given in real milliseconds: a store that keeps time itself (Redis's TTL) is held to
 * the same behaviour as one that reads `now`.
 */
export function shieldStoreContract(name: string, make: () => Promise<ShieldStore> | ShieldStore): void {
  let n = 0;
  const key = (label: string) => `kh:test:${name}:${Date.now()}:${n++}:${label}`;
  describe(`${name} store`, () => {
    it("counts hits per key, each with the window of its first hit", async () => {
      const store = await make();
      const [a, b] = [key("a"), key("b")];
      const now = Date.now();
      const first = await store.hit([{ key: a, windowMs: 60_000 }], now);
      expect(first[0]?.count).toBe(1);
      const second = await store.hit(
        [
          { key: a, windowMs: 5_000 },
          { key: b, windowMs: 60_000 },
        ],
        now + 10,
      );
      expect(second.map((c) => c.count)).toEqual([2, 1]);
      // The later hit's shorter window does not move the first one's end.
      expect(second[0]?.resetAt).toBeGreaterThan(now + 50_000);
      expect(second[0]?.resetAt).toBeLessThanOrEqual(now + 60_000 + 50);
      expect(second[0]?.lastAt).toBe(now + 10);
      const peeked = await store.peek([a, b, key("never")], now + 20);
      expect(peeked.map((c) => c?.count)).toEqual([2, 1, undefined]);
      // One window, one end, however often and whenever it is read: the shield keys the window's
      // forgiven attempts by it (a store that recomputed it from a TTL would drift by milliseconds).
      const third = await store.hit([{ key: a, windowMs: 60_000 }], now + 37);
      expect(third[0]?.resetAt).toBe(first[0]?.resetAt);
      expect(second[0]?.resetAt).toBe(first[0]?.resetAt);
      expect(peeked[0]?.resetAt).toBe(first[0]?.resetAt);
      expect((await store.peek([a], now + 51))[0]?.resetAt).toBe(first[0]?.resetAt);
    });

    it("forgets a counter when its window is over", async () => {
      const store = await make();
      const k = key("short");
      await store.hit([{ key: k, windowMs: 150 }], Date.now());
      expect((await store.peek([k], Date.now()))[0]?.count).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await store.peek([k], Date.now()))[0]).toBeUndefined();
      const again = await store.hit([{ key: k, windowMs: 60_000 }], Date.now());
      expect(again[0]?.count).toBe(1);
    });

    it("forgives hits in a counter's own window: a new window starts forgiving nothing, and no counter is made", async () => {
      const store = await make();
      const [a, none] = [key("a"), key("none")];
      const now = Date.now();
      await store.hit([{ key: a, windowMs: 150 }], now);
      await store.hit([{ key: a, windowMs: 150 }], now);
      await store.forgive([a, none], now + 1);
      expect((await store.peek([a], now + 2))[0]).toMatchObject({ count: 2, forgiven: 1 });
      const [third] = await store.hit([{ key: a, windowMs: 150 }], now + 3);
      expect(third).toMatchObject({ count: 3, forgiven: 1 });
      expect((await store.peek([none], now + 4))[0]).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [fresh] = await store.hit([{ key: a, windowMs: 60_000 }], Date.now());
      expect(fresh).toMatchObject({ count: 1, forgiven: 0 });
    });

    it("batches hits, peeks and notes as the single calls answer them (batchOf: one round trip where the store can)", async () => {
      const store = await make();
      const [a, b, note, none] = [key("a"), key("b"), key("note"), key("none")];
      const now = Date.now();
      await store.hit([{ key: b, windowMs: 60_000 }], now);
      await store.forgive([b], now);
      await store.put(note, "the note", 60_000, now);
      const read = await batchOf(
        store,
        {
          hits: [
            { key: a, windowMs: 60_000 },
            { key: a, windowMs: 60_000 },
          ],
          peeks: [b, none, note],
          gets: [note, none, b],
        },
        now + 5,
      );
      expect(read.hits.map((c) => [c.count, c.forgiven])).toEqual([
        [1, 0],
        [2, 0],
      ]);
      expect(read.hits[0]?.resetAt).toBe(read.hits[1]?.resetAt);
      expect(read.peeks.map((c) => c && [c.count, c.forgiven])).toEqual([[1, 1], undefined, undefined]);
      expect(read.gets).toEqual(["the note", undefined, undefined]);
      expect(await batchOf(store, {}, now)).toEqual({ hits: [], peeks: [], gets: [] });
      // The writes first, in order: reset, then forgive, then the hits and reads see them.
      const after = await batchOf(store, { resets: [a], forgives: [b], hits: [{ key: a, windowMs: 60_000 }], peeks: [b] }, now + 6);
      expect(after.hits.map((c) => c.count)).toEqual([1]);
      expect(after.peeks[0]).toMatchObject({ count: 1, forgiven: 2 });
    });

    it("resets counters by key and leaves the others", async () => {
      const store = await make();
      const [a, b] = [key("a"), key("b")];
      const now = Date.now();
      await store.hit(
        [
          { key: a, windowMs: 60_000 },
          { key: b, windowMs: 60_000 },
        ],
        now,
      );
      await store.reset([a]);
      const peeked = await store.peek([a, b], now);
      expect(peeked.map((c) => c?.count)).toEqual([undefined, 1]);
    });

    it("counts every one of many concurrent hits (atomic increments)", async () => {
      const store = await make();
      const k = key("race");
      const now = Date.now();
      const results = await Promise.all(Array.from({ length: 50 }, () => store.hit([{ key: k, windowMs: 60_000 }], now)));
      const counts = results.map((r) => r[0]?.count).sort((x = 0, y = 0) => x - y);
      expect(counts).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect((await store.peek([k], now))[0]?.count).toBe(50);
    });

    it("answers empty lists with empty lists", async () => {
      const store = await make();
      expect(await store.hit([], Date.now())).toEqual([]);
      expect(await store.peek([], Date.now())).toEqual([]);
      await store.reset([]);
    });

    it("removes notes by key too", async () => {
      const store = await make();
      const [a, b] = [key("note-a"), key("note-b")];
      await store.put(a, "a", 60_000, Date.now());
      await store.put(b, "b", 60_000, Date.now());
      await store.reset([a]);
      expect(await store.get(a, Date.now())).toBeUndefined();
      expect(await store.get(b, Date.now())).toBe("b");
    });

    it("keeps a note for its time and replaces it", async () => {
      const store = await make();
      const k = key("note");
      await store.put(k, "first", 60_000, Date.now());
      await store.put(k, "second", 60_000, Date.now());
      expect(await store.get(k, Date.now())).toBe("second");
      const short = key("short-note");
      await store.put(short, "gone soon", 150, Date.now());
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await store.get(short, Date.now())).toBeUndefined();
      expect(await store.get(key("none"), Date.now())).toBeUndefined();
    });
  });
}
