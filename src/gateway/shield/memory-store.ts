import type { Counter, CounterHit, ShieldStore } from "./store.js";

interface Entry {
  count: number;
  forgiven: number;
  resetAt: number;
  lastAt: number;
  note?: string;
}

/**
 * The embedded store: one process's memory, the default. Counters of several instances are not
 * shared (use Redis or Durable Objects for that). Expired entries are dropped as they are met and
 * by a sweep every `sweepEvery` writes, so memory follows the live keys; `maxKeys` bounds it
 * (the oldest entries go first when it is full).
 *
 * ```ts
 * import { createShield, MemoryStore } from "kratos-hooks";
 * const shield = createShield({ config: config.gateway.shield, store: new MemoryStore({ maxKeys: 100_000 }), secret,
 *   allowedCountries: config.normalizePhone.allowedCountries, deniedCountries: config.normalizePhone.deniedCountries });
 * ```
 */
export class MemoryStore implements ShieldStore {
  readonly kind = "memory";
  readonly local = true;
  readonly #entries = new Map<string, Entry>();
  readonly #maxKeys: number;
  #writes = 0;

  constructor(options: { maxKeys?: number } = {}) {
    this.#maxKeys = options.maxKeys ?? 1_000_000;
  }

  /** How many keys are held (expired ones not yet swept included). */
  get size(): number {
    return this.#entries.size;
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.resetAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #wrote(now: number): void {
    if (++this.#writes % 10_000 === 0) {
      for (const [key, entry] of this.#entries) if (entry.resetAt <= now) this.#entries.delete(key);
    }
    // A Map iterates in insertion order: the first keys are the oldest.
    while (this.#entries.size > this.#maxKeys) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  async hit(hits: readonly CounterHit[], now: number): Promise<Counter[]> {
    const out: Counter[] = [];
    for (const { key, windowMs } of hits) {
      let entry = this.#live(key, now);
      if (entry === undefined) {
        entry = { count: 0, forgiven: 0, resetAt: now + windowMs, lastAt: now };
        this.#entries.set(key, entry);
      }
      entry.count += 1;
      entry.lastAt = now;
      out.push({ count: entry.count, forgiven: entry.forgiven, resetAt: entry.resetAt, lastAt: entry.lastAt });
    }
    this.#wrote(now);
    return out;
  }

  async peek(keys: readonly string[], now: number): Promise<(Counter | undefined)[]> {
    return keys.map((key) => {
      const entry = this.#live(key, now);
      return entry === undefined || entry.note !== undefined
        ? undefined
        : { count: entry.count, forgiven: entry.forgiven, resetAt: entry.resetAt, lastAt: entry.lastAt };
    });
  }

  async forgive(keys: readonly string[], now: number): Promise<void> {
    for (const key of keys) {
      const entry = this.#live(key, now);
      if (entry !== undefined && entry.note === undefined) entry.forgiven += 1;
    }
  }

  async reset(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#entries.delete(key);
  }

  async put(key: string, value: string, ttlMs: number, now: number): Promise<void> {
    this.#entries.delete(key);
    this.#entries.set(key, { count: 0, forgiven: 0, resetAt: now + ttlMs, lastAt: now, note: value });
    this.#wrote(now);
  }

  async get(key: string, now: number): Promise<string | undefined> {
    return this.#live(key, now)?.note;
  }
}
