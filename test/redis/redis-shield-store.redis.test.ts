import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createRedisShieldStore,
  parseRedisUrl,
  type RedisShieldStore,
  type RedisShieldStoreOptions,
  RedisStoreError,
} from "../../src/adapters/redis-shield-store.js";
import { ConfigError } from "../../src/config/parse.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { shieldStoreContract } from "../support/shield-store-contract.js";

const PREFIX = "test-prefix:";
let server: RedisServer;
/** A plain client on the same server, to look at what the store wrote. */
let raw: Redis;
const opened: RedisShieldStore[] = [];

async function open(options: RedisShieldStoreOptions = {}, url = server.url): Promise<RedisShieldStore> {
  const store = createRedisShieldStore(url, { keyPrefix: PREFIX, ...options });
  opened.push(store);
  await store.ready();
  return store;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let n = 0;
const key = (label: string) => `kh:redis-test:${n++}:${label}`;

beforeAll(async () => {
  server = await startRedisServer();
  raw = new Redis(server.url, { lazyConnect: true });
  await raw.connect();
});

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  raw?.disconnect();
  await server?.stop();
});

shieldStoreContract("redis", () => open());

describe("the Redis store", () => {
  it("shares counters between two stores on one server", async () => {
    const [a, b] = [await open(), await open()];
    const k = key("shared");
    const now = Date.now();
    await a.hit([{ key: k, windowMs: 60_000 }], now);
    const [second] = await b.hit([{ key: k, windowMs: 60_000 }], now + 1);
    expect(second?.count).toBe(2);
    expect((await a.peek([k], now + 2))[0]?.count).toBe(2);
    await b.put(`${k}:note`, "from b", 60_000, now);
    expect(await a.get(`${k}:note`, now)).toBe("from b");
    await a.reset([k]);
    expect((await b.peek([k], now + 3))[0]).toBeUndefined();
  });

  it("keeps its keys under the configured prefix, a counter as a hash and a note as a string", async () => {
    const store = await open({ keyPrefix: "kh-prefix-test:" });
    const [counter, note] = [key("counter"), key("note")];
    await store.hit([{ key: counter, windowMs: 60_000 }], Date.now());
    await store.put(note, "hello", 60_000, Date.now());
    expect((await raw.keys("kh-prefix-test:*")).sort()).toEqual([`kh-prefix-test:${counter}`, `kh-prefix-test:${note}`].sort());
    expect(await raw.exists(counter, note)).toBe(0);
    expect(await raw.type(`kh-prefix-test:${counter}`)).toBe("hash");
    expect(await raw.get(`kh-prefix-test:${note}`)).toBe("hello");
  });

  it("sets a counter's TTL at its first hit and leaves it alone at the next", async () => {
    const store = await open();
    const k = key("ttl");
    await store.hit([{ key: k, windowMs: 60_000 }], Date.now());
    const first = await raw.pttl(PREFIX + k);
    expect(first).toBeGreaterThan(59_000);
    expect(first).toBeLessThanOrEqual(60_000);
    await sleep(50);
    // A longer window at the second hit: a store that re-armed the TTL would now show ~120 s.
    const [second] = await store.hit([{ key: k, windowMs: 120_000 }], Date.now());
    const after = await raw.pttl(PREFIX + k);
    expect(after).toBeLessThanOrEqual(first - 40);
    expect(after).toBeGreaterThan(first - 5_000);
    expect(second?.resetAt).toBeLessThanOrEqual(Date.now() + first);
    expect(await raw.pttl(PREFIX + key("never"))).toBe(-2);
    await store.put(k, "note", 30_000, Date.now());
    expect(await raw.pttl(PREFIX + k)).toBeGreaterThan(29_000);
  });

  it("peeks and gets across a counter and a note under one key without failing", async () => {
    const store = await open();
    const [counter, note] = [key("counter"), key("note")];
    await store.hit([{ key: counter, windowMs: 60_000 }], Date.now());
    await store.put(note, "text", 60_000, Date.now());
    expect(await store.peek([note], Date.now())).toEqual([undefined]);
    expect(await store.get(counter, Date.now())).toBeUndefined();
  });

  it("authenticates and selects the database the URL names", async () => {
    const guarded = await startRedisServer({ password: "s3cret/with:odd@chars" });
    try {
      const url = guarded.url.replace(/\/0$/, "/3");
      const store = await open({}, url);
      await store.hit([{ key: "kh:db-test", windowMs: 60_000 }], Date.now());
      const check = new Redis({ port: guarded.port, host: "127.0.0.1", password: "s3cret/with:odd@chars", db: 3, lazyConnect: true });
      await check.connect();
      expect(await check.exists(`${PREFIX}kh:db-test`)).toBe(1);
      check.disconnect();
      await expect(open({}, url.replace("s3cret", "wrong"))).rejects.toThrow(RedisStoreError);
      expect(store.target).toBe(`redis://127.0.0.1:${guarded.port}/3`);
    } finally {
      await guarded.stop();
    }
  });
});

describe("when Redis goes away", () => {
  const calls = (store: RedisShieldStore, k: string) => ({
    hit: () => store.hit([{ key: k, windowMs: 60_000 }], Date.now()),
    peek: () => store.peek([k], Date.now()),
    reset: () => store.reset([k]),
    put: () => store.put(`${k}:note`, "x", 60_000, Date.now()),
    get: () => store.get(`${k}:note`, Date.now()),
  });

  /** How long each call took to reject; every call must reject with a RedisStoreError. */
  async function rejections(store: RedisShieldStore, k: string): Promise<Record<string, number>> {
    const took: Record<string, number> = {};
    for (const [name, call] of Object.entries(calls(store, k))) {
      const started = performance.now();
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      took[name] = performance.now() - started;
      expect(error, name).toBeInstanceOf(RedisStoreError);
    }
    return took;
  }

  async function recovers(store: RedisShieldStore, k: string): Promise<number> {
    const started = Date.now();
    for (;;) {
      try {
        return (await store.hit([{ key: k, windowMs: 60_000 }], Date.now()))[0]?.count ?? 0;
      } catch (error) {
        if (Date.now() - started > 10_000) throw error;
        await sleep(50);
      }
    }
  }

  it("rejects every call quickly while it is killed, and works again when it is back on the same port", async () => {
    const own = await startRedisServer();
    const downs: Error[] = [];
    let ups = 0;
    try {
      const store = await open({ onDown: (e) => downs.push(e), onUp: () => ups++ }, own.url);
      const k = key("down");
      await store.hit([{ key: k, windowMs: 60_000 }], Date.now());
      await own.kill();
      const took = await rejections(store, k);
      for (const [name, ms] of Object.entries(took)) expect(ms, `${name} took ${ms.toFixed(0)} ms`).toBeLessThan(2_000);
      console.info(
        `redis killed: calls rejected in ${JSON.stringify(Object.fromEntries(Object.entries(took).map(([n, ms]) => [n, +ms.toFixed(1)])))} ms`,
      );
      await own.start();
      // The server came back empty (nothing is saved): the counter starts again.
      expect(await recovers(store, k)).toBe(1);
      expect(downs.length).toBe(1);
      expect(ups).toBe(1);
    } finally {
      await own.stop();
    }
  });

  it("rejects within the command timeout while it hangs, and works again when it answers", async () => {
    const own = await startRedisServer();
    try {
      const store = await open({ commandTimeoutMs: 250 }, own.url);
      const k = key("hang");
      await store.hit([{ key: k, windowMs: 60_000 }], Date.now());
      own.pause();
      const took = await rejections(store, k);
      for (const [name, ms] of Object.entries(took)) expect(ms, `${name} took ${ms.toFixed(0)} ms`).toBeLessThan(2_000);
      console.info(
        `redis paused: calls rejected in ${JSON.stringify(Object.fromEntries(Object.entries(took).map(([n, ms]) => [n, +ms.toFixed(1)])))} ms`,
      );
      // Many calls at once while it hangs: none waits longer than the one did.
      const started = performance.now();
      const many = await Promise.allSettled(Array.from({ length: 200 }, () => store.hit([{ key: k, windowMs: 60_000 }], Date.now())));
      expect(many.every((r) => r.status === "rejected")).toBe(true);
      expect(performance.now() - started).toBeLessThan(2_000);
      own.resume();
      // A call that timed out may still be carried out when Redis wakes (here the reset among
      // them did): the store promises a bounded wait, not that a rejected call had no effect.
      const count = await recovers(store, k);
      expect(count).toBeGreaterThanOrEqual(1);
      expect(count).toBeLessThanOrEqual(2 + 1 + 200);
    } finally {
      await own.stop();
    }
  });

  it("says at ready() that nothing answers, without the password", async () => {
    const own = await startRedisServer();
    const port = own.port;
    await own.stop();
    const store = createRedisShieldStore(`redis://user:hunter2@127.0.0.1:${port}/0`, { connectTimeoutMs: 500 });
    opened.push(store);
    const started = performance.now();
    const error = await store.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(RedisStoreError);
    expect(String((error as Error).message)).toContain(`redis://127.0.0.1:${port}/0`);
    expect(String((error as Error).message)).toMatch(/ECONNREFUSED/);
    expect(String((error as Error).message)).not.toContain("hunter2");
    await expect(store.hit([{ key: "kh:x", windowMs: 1_000 }], Date.now())).rejects.toThrow(RedisStoreError);
    await store.close();
    await expect(store.ready()).rejects.toThrow(/closed/);
    await expect(store.peek(["kh:x"], Date.now())).rejects.toThrow(RedisStoreError);
  });
});

describe("parseRedisUrl", () => {
  it("reads host, port, database, credentials and TLS", () => {
    expect(parseRedisUrl("redis://127.0.0.1:6390/2").options).toMatchObject({ host: "127.0.0.1", port: 6390, db: 2 });
    expect(parseRedisUrl("redis://cache").options).toMatchObject({ host: "cache", port: 6379, db: 0 });
    const tls = parseRedisUrl("rediss://app:p%40ss@redis.example:6380/1").options;
    expect(tls).toMatchObject({ host: "redis.example", port: 6380, db: 1, username: "app", password: "p@ss" });
    expect(tls.tls).toEqual({ servername: "redis.example" });
    expect(parseRedisUrl("redis://[::1]:6379").options.host).toBe("::1");
  });

  it("refuses what it cannot use, without repeating the URL", () => {
    for (const bad of [
      "http://:hunter2@host",
      "hunter2",
      "redis://:hunter2@host/db",
      "redis://:hunter2@host/0?tls=true",
      "redis://:hunter2@/0",
    ]) {
      expect(() => parseRedisUrl(bad), bad).toThrow(ConfigError);
      try {
        parseRedisUrl(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain("hunter2");
      }
    }
  });
});
