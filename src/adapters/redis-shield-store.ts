import { Redis } from "ioredis";
import type { Counter, CounterHit, ShieldStore, StoreBatch, StoreBatchResult } from "../gateway/shield/store.js";
import { BATCH, batchCall, batchResult } from "./redis-shield-batch.js";
import { parseRedisUrl, toRedisTarget } from "./redis-url.js";

export { parseRedisUrl, toRedisTarget } from "./redis-url.js";

// The client is ioredis: it fails fast as configured below (no offline queue, a command timeout, a
// socket timeout, no resend after a reconnect), reconnects in the background, and runs a script
// as EVAL on a new connection and EVALSHA after, one round trip either way.
// Not rate-limiter-flexible: its Redis limiter counts one key per call (a hit here is several keys
// in one round trip), keeps no notes and no lastAt, and has no Durable Object twin; its points,
// block durations and insurance limiters are semantics of its own that memory, Redis and Durable
// Objects would then all have to copy. One script (redis-shield-batch.ts) is the whole of what the
// shield needs; every operation but DEL, SET and GET goes through it.

type ScriptArgs = [numberOfKeys: number, ...keysThenArgs: (string | number)[]];
interface ShieldRedis extends Redis {
  shieldBatch(...args: ScriptArgs): Promise<(number | string | null)[]>;
}

/** What `createRedisShieldStore` takes besides the URL: a key prefix, timeouts, and callbacks for an outage. */
export interface RedisShieldStoreOptions {
  /** Put before every key (`kratos-hooks:` makes `kratos-hooks:kh:…`). Default: none, the shield's keys start with `kh:`. */
  keyPrefix?: string;
  /** How long one call may wait for Redis before it rejects. Default 300 ms. */
  commandTimeoutMs?: number;
  /** How long a connection attempt may take. Default 2,000 ms. */
  connectTimeoutMs?: number;
  /** The longest pause between two reconnection attempts (they back off up to it). Default 1,000 ms. */
  maxReconnectDelayMs?: number;
  /** Told once when Redis goes away (or cannot be reached at first), not at every retry. */
  onDown?: (error: Error) => void;
  /** Told when the connection is ready again after `onDown`. */
  onUp?: () => void;
}

/** A call the Redis store could not answer: Redis down, slow, or refusing the command. `cause` is the client's error. */
export class RedisStoreError extends Error {
  override name = "RedisStoreError";
}

/**
 * The shield's counters and notes in Redis, shared by every instance that uses the same server and
 * prefix. A counter is a hash (`c` count, `l` lastAt) whose TTL is its window; a note is a string
 * with a TTL. Windows are kept by Redis's clock, `lastAt` is the caller's `now`. For a standalone
 * server (or a proxy that keeps one hit's keys on one node): the hit script touches several keys.
 *
 * ```ts
 * import { RedisShieldStore } from "kratos-hooks/node";
 * const store = new RedisShieldStore("redis://127.0.0.1:6379", { keyPrefix: "kratos-hooks:" });
 * await store.ready();
 * ```
 */
export class RedisShieldStore implements ShieldStore {
  readonly kind = "redis";
  /** The server, for logs: no credentials. */
  readonly target: string;
  readonly #client: ShieldRedis;
  readonly #prefix: string;
  /** `new` until the first connection is ready or fails; `down` from a failure or a lost connection until ready again. */
  #state: "new" | "up" | "down" | "closed" = "new";
  #lastError: Error | undefined;

  constructor(url: string, options: RedisShieldStoreOptions = {}) {
    const parsed = parseRedisUrl(url);
    this.target = toRedisTarget(parsed.url);
    this.#prefix = options.keyPrefix ?? "";
    const maxDelay = options.maxReconnectDelayMs ?? 1_000;
    const commandTimeout = options.commandTimeoutMs ?? 300;
    this.#client = new Redis({
      ...parsed.options,
      lazyConnect: true,
      // Fail fast: a call made while disconnected rejects at once (no offline queue), a call in
      // flight when the connection drops is rejected and never resent (a hit is not idempotent),
      // and a call Redis does not answer rejects after `commandTimeout`. A connection that stays
      // silent that long with calls waiting is dropped, and reconnection goes on in the background.
      // A rejected call may still have been carried out: Redis may have read it before it hung.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout,
      socketTimeout: Math.max(1_000, commandTimeout * 3),
      connectTimeout: options.connectTimeoutMs ?? 2_000,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
      scripts: { shieldBatch: { lua: BATCH } },
    }) as ShieldRedis;
    const down = (error: Error) => {
      this.#state = "down";
      options.onDown?.(error);
    };
    this.#client.on("error", (error: Error) => {
      this.#lastError = error;
      if (this.#state === "new") down(error);
    });
    this.#client.on("close", () => {
      if (this.#state === "up") down(this.#lastError ?? new Error("the connection was closed"));
    });
    this.#client.on("ready", () => {
      const wasDown = this.#state === "down";
      this.#state = "up";
      this.#lastError = undefined;
      if (wasDown) options.onUp?.();
    });
  }

  /** Connects, and rejects with a `RedisStoreError` if the first attempt fails (reconnection goes on in the background). */
  async ready(): Promise<void> {
    const client = this.#client;
    if (client.status === "ready") return;
    if (this.#state === "closed") throw this.#failed(new Error("the store was closed"));
    if (client.status === "wait") return client.connect().catch((error: unknown) => Promise.reject(this.#failed(this.#lastError ?? error)));
    // Connecting or reconnecting: wait for the outcome of the attempt under way.
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        client.off("ready", done).off("error", done).off("end", done);
        if (error === undefined && client.status === "ready") resolve();
        else reject(this.#failed(error ?? new Error("the connection was closed")));
      };
      client.once("ready", done).once("error", done).once("end", done);
    });
  }

  /** Closes the connection (QUIT, or at once when there is none) and stops reconnecting. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    if (this.#client.status === "ready") await this.#client.quit().catch(() => this.#client.disconnect());
    else this.#client.disconnect();
  }

  async hit(hits: readonly CounterHit[], now: number): Promise<Counter[]> {
    return (await this.batch({ hits }, now)).hits;
  }

  async batch(batch: StoreBatch, now: number): Promise<StoreBatchResult> {
    const { keys, args } = batchCall(batch, this.#prefix, now);
    if (keys.length === 0) return { hits: [], peeks: [], gets: [] };
    const out = await this.#call((c) => c.shieldBatch(keys.length, ...keys, ...args));
    return batchResult(batch, out, now);
  }

  async forgive(keys: readonly string[], now: number): Promise<void> {
    await this.batch({ forgives: keys }, now);
  }

  async peek(keys: readonly string[], now: number): Promise<(Counter | undefined)[]> {
    return (await this.batch({ peeks: keys }, now)).peeks;
  }

  async reset(keys: readonly string[]): Promise<void> {
    if (keys.length > 0) await this.#call((c) => c.del(...keys.map((k) => this.#prefix + k)));
  }

  async put(key: string, value: string, ttlMs: number, _now: number): Promise<void> {
    await this.#call((c) => c.set(this.#prefix + key, value, "PX", Math.max(1, Math.ceil(ttlMs))));
  }

  async get(key: string, _now: number): Promise<string | undefined> {
    try {
      return (await this.#call((c) => c.get(this.#prefix + key))) ?? undefined;
    } catch (error) {
      // A counter under that key: no note, as in memory.
      if (error instanceof RedisStoreError && error.cause instanceof Error && error.cause.message.startsWith("WRONGTYPE")) return undefined;
      throw error;
    }
  }

  /** Sends a command when connected; rejects at once when not (after starting to connect, the first time). */
  async #call<T>(send: (client: ShieldRedis) => Promise<T>): Promise<T> {
    const client = this.#client;
    if (this.#state === "closed") throw this.#failed(new Error("the store was closed"));
    if (client.status !== "ready") {
      if (client.status === "wait") this.ready().catch(() => {});
      const why = this.#lastError === undefined ? client.status : `${client.status}; last error: ${this.#lastError.message}`;
      throw this.#failed(new Error(`not connected (${why})`));
    }
    return send(client).catch((error: unknown) => Promise.reject(this.#failed(error)));
  }

  #failed(error: unknown): RedisStoreError {
    const reason = error instanceof Error ? error.message : String(error);
    return new RedisStoreError(`The shield's Redis at ${this.target} failed: ${reason}`, { cause: error });
  }
}

/**
 * The Redis shield store for `url` (`redis://[user:password@]host[:port][/db]`, `rediss://`); call `ready()` to connect.
 *
 * ```ts
 * import { createRedisShieldStore } from "kratos-hooks/node";
 * const store = createRedisShieldStore("redis://127.0.0.1:6379", { onDown: (error) => console.warn(error.message) });
 * await store.ready();
 * ```
 */
export function createRedisShieldStore(url: string, options: RedisShieldStoreOptions = {}): RedisShieldStore {
  return new RedisShieldStore(url, options);
}
