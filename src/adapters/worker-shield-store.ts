import type { Counter, CounterHit, ShieldStore } from "../gateway/shield/store.js";

// The shield's store on Workers: one Durable Object per key (`getByName(key)`), not a fixed set
// of shards. The store promises atomicity per key only, so nothing is gained by putting keys
// together, and a shard would make every key in it wait behind its hottest one (an address under
// attack would slow the login counters of everyone who shares its shard). One key per object also
// makes cleanup whole: the object's storage is deleted when its window ends, so nothing outlives
// its window, and an object with no storage costs nothing. The price: a hit on n keys is n
// requests (sent in parallel).
//
// Spoken to by `fetch`, not RPC: RPC needs the class to extend `DurableObject` from
// "cloudflare:workers", a module that Node cannot load and that the Node type-check cannot see, and
// `kratos-hooks/worker`, which exports this class, must still load and type-check everywhere.
// The wire is one JSON request per key and stays inside this file.

/** One operation on one key's object. */
type Op =
  | { op: "hit"; windows: number[]; now: number }
  | { op: "peek"; now: number }
  | { op: "forgive"; now: number }
  | { op: "reset" }
  | { op: "put"; value: string; ttlMs: number; now: number }
  | { op: "get"; now: number };

interface Entry extends Counter {
  note?: string;
}

/** The part of a SQLite-backed Durable Object's storage the counters use (workers-types' `DurableObjectStorage`). */
interface CountersStorage {
  kv: { get(key: string): unknown; put(key: string, value: unknown): void; delete(key: string): boolean };
  setAlarm(at: number): Promise<void>;
  deleteAlarm(): Promise<void>;
  deleteAll(): Promise<void>;
}

/** The part of a Durable Object namespace binding the store uses: workers-types' `DurableObjectNamespace` fits it. */
export interface ShieldNamespace {
  getByName(name: string): { fetch(input: string, init: { method: string; body: string }): Promise<Response> };
}

const ENTRY = "entry";

/**
 * The Durable Object class that holds the shield's counters on Workers, one object per key. Export
 * it from your Worker's main module (`export { ShieldCounters } from "kratos-hooks/worker"`) and
 * bind it as `SHIELD`, SQLite-backed (`new_sqlite_classes`): wrangler.toml's `[env.shield]`.
 *
 * ```ts
 * // Your Worker's main module; wrangler.toml binds SHIELD to class_name = "ShieldCounters".
 * import { createWorker } from "kratos-hooks/worker";
 * export { ShieldCounters } from "kratos-hooks/worker";
 * export default createWorker();
 * ```
 */
export class ShieldCounters {
  readonly #storage: CountersStorage;

  constructor(state: { readonly storage: CountersStorage }, _env?: unknown) {
    this.#storage = state.storage;
  }

  async fetch(request: Request): Promise<Response> {
    return Response.json((await this.#run((await request.json()) as Op)) ?? null);
  }

  /** Runs at the end of the window: the object's storage goes, unless a new window has begun since. */
  async alarm(): Promise<void> {
    const entry = this.#storage.kv.get(ENTRY) as Entry | undefined;
    if (entry !== undefined && entry.resetAt > Date.now()) await this.#storage.setAlarm(entry.resetAt);
    else await this.#storage.deleteAll();
  }

  /** The entry, unless its window is over (then it is deleted here; the alarm deletes the rest). */
  #live(now: number): Entry | undefined {
    const entry = this.#storage.kv.get(ENTRY) as Entry | undefined;
    if (entry === undefined || entry.resetAt > now) return entry;
    this.#storage.kv.delete(ENTRY);
    return undefined;
  }

  // Every read-modify-write below is synchronous (the SQLite-backed `storage.kv`): an object runs one
  // event at a time and nothing awaits between the read and the write, so concurrent requests for a
  // key cannot interleave there. The awaits that follow only schedule or drop the alarm, and the
  // output gate holds the answer until the write is durable.
  async #run(op: Op): Promise<unknown> {
    switch (op.op) {
      case "hit": {
        let entry = this.#live(op.now);
        let started = false;
        const out: Counter[] = [];
        for (const windowMs of op.windows) {
          if (entry === undefined || entry.resetAt <= op.now) {
            entry = { count: 0, forgiven: 0, resetAt: op.now + windowMs, lastAt: op.now };
            started = true;
          }
          entry.count += 1;
          entry.lastAt = op.now;
          out.push({ count: entry.count, forgiven: entry.forgiven ?? 0, resetAt: entry.resetAt, lastAt: entry.lastAt });
        }
        if (entry === undefined) return out;
        this.#storage.kv.put(ENTRY, entry);
        if (started) await this.#storage.setAlarm(entry.resetAt);
        return out;
      }
      case "peek": {
        const entry = this.#live(op.now);
        return entry === undefined || entry.note !== undefined
          ? null
          : { count: entry.count, forgiven: entry.forgiven ?? 0, resetAt: entry.resetAt, lastAt: entry.lastAt };
      }
      case "forgive": {
        const entry = this.#live(op.now);
        if (entry !== undefined && entry.note === undefined) this.#storage.kv.put(ENTRY, { ...entry, forgiven: (entry.forgiven ?? 0) + 1 });
        return null;
      }
      case "reset":
        this.#storage.kv.delete(ENTRY);
        await this.#storage.deleteAlarm();
        await this.#storage.deleteAll();
        return null;
      case "put":
        this.#storage.kv.put(ENTRY, { count: 0, forgiven: 0, resetAt: op.now + op.ttlMs, lastAt: op.now, note: op.value } satisfies Entry);
        await this.#storage.setAlarm(op.now + op.ttlMs);
        return null;
      case "get":
        return this.#live(op.now)?.note ?? null;
    }
  }
}

/**
 * The shield's store on Workers: counters and notes in `ShieldCounters` Durable Objects, one per
 * key, through the `SHIELD` binding: `new DurableObjectShieldStore(env.SHIELD)`.
 */
export class DurableObjectShieldStore implements ShieldStore {
  readonly kind = "durable-object";
  readonly #namespace: ShieldNamespace;

  constructor(namespace: ShieldNamespace) {
    this.#namespace = namespace;
  }

  async #call<T>(key: string, op: Op): Promise<T> {
    const res = await this.#namespace.getByName(key).fetch("https://shield/", { method: "POST", body: JSON.stringify(op) });
    if (!res.ok) throw new Error(`shield store: the Durable Object answered ${op.op} with ${res.status}`);
    return (await res.json()) as T;
  }

  async hit(hits: readonly CounterHit[], now: number): Promise<Counter[]> {
    // One request per key, with that key's hits in order: a key given twice counts 1 then 2, as in memory.
    const windows = new Map<string, number[]>();
    for (const { key, windowMs } of hits) windows.set(key, [...(windows.get(key) ?? []), windowMs]);
    const answers = new Map(
      await Promise.all(
        [...windows].map(async ([key, w]) => [key, await this.#call<Counter[]>(key, { op: "hit", windows: w, now })] as const),
      ),
    );
    return hits.map(({ key }) => answers.get(key)?.shift() as Counter);
  }

  async peek(keys: readonly string[], now: number): Promise<(Counter | undefined)[]> {
    return Promise.all(keys.map(async (key) => (await this.#call<Counter | null>(key, { op: "peek", now })) ?? undefined));
  }

  async forgive(keys: readonly string[], now: number): Promise<void> {
    await Promise.all(keys.map((key) => this.#call(key, { op: "forgive", now })));
  }

  async reset(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => this.#call(key, { op: "reset" })));
  }

  async put(key: string, value: string, ttlMs: number, now: number): Promise<void> {
    await this.#call(key, { op: "put", value, ttlMs, now });
  }

  async get(key: string, now: number): Promise<string | undefined> {
    return (await this.#call<string | null>(key, { op: "get", now })) ?? undefined;
  }
}
