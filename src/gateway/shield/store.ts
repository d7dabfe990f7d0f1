/** One counter to add one to, with the length of its window. */
export interface CounterHit {
  key: string;
  /** The window starts at the counter's first hit and is not extended by later hits; then the counter is gone. */
  windowMs: number;
}

/** A counter as a store holds it. */
export interface Counter {
  count: number;
  /** How many of the hits were forgiven since (`forgive`): attempts that turned out no failure. */
  forgiven: number;
  /** When its window ends (epoch ms): the counter is gone then. */
  resetAt: number;
  /** When it was last hit (epoch ms, the caller's clock). */
  lastAt: number;
}

/**
 * The shield's state: counters with a window each, and short notes (the message a refused flow
 * shows when the UI fetches it). Keys are the shield's own (`kh:…`), holding keyed hashes, never
 * an identifier or an address. Every operation is atomic per key. A store that cannot answer
 * rejects (Redis down): the shield then follows `shield.failMode`.
 */
export interface ShieldStore {
  /** `memory`, `redis`, `durable-object`: for logs and metrics. */
  readonly kind: string;
  /**
   * True when every operation completes in this process without I/O (the memory store): the
   * shield then writes at once; to any other store it writes after the answer has gone.
   */
  readonly local?: boolean;
  /** Adds one to each counter (created with its window at its first hit) and returns each after the hit, in order. */
  hit(hits: readonly CounterHit[], now: number): Promise<Counter[]>;
  /** Adds one to each live counter's `forgiven` (in the same window: it goes with the counter); none is created. */
  forgive(keys: readonly string[], now: number): Promise<void>;
  /** Each counter, or undefined where there is none (never hit, window over, or reset). */
  peek(keys: readonly string[], now: number): Promise<(Counter | undefined)[]>;
  /** Removes counters (and notes) by key. */
  reset(keys: readonly string[]): Promise<void>;
  /** Keeps a note under a key for `ttlMs`, replacing any earlier one. */
  put(key: string, value: string, ttlMs: number, now: number): Promise<void>;
  /** The note under a key, or undefined when there is none or its time is over. */
  get(key: string, now: number): Promise<string | undefined>;
  /** Optional: `reset`, `forgive`, `hit`, `peek` and `get` in one round trip (`batchOf` does it for a store without). */
  batch?(batch: StoreBatch, now: number): Promise<StoreBatchResult>;
}

/** Several operations at once (`ShieldStore.batch`): the resets first, then the forgives, the hits, the reads. */
export interface StoreBatch {
  resets?: readonly string[];
  forgives?: readonly string[];
  hits?: readonly CounterHit[];
  peeks?: readonly string[];
  gets?: readonly string[];
}

/** What `batch` answers, in the order asked. */
export interface StoreBatchResult {
  hits: Counter[];
  peeks: (Counter | undefined)[];
  gets: (string | undefined)[];
}

/**
 * `reset`, `forgive`, `hit`, `peek` and `get` at once, in that order: in one round trip where the
 * store has one (Redis: one script), else the writes in turn and the rest at the same time.
 */
export async function batchOf(store: ShieldStore, batch: StoreBatch, now: number): Promise<StoreBatchResult> {
  if (store.batch !== undefined) return store.batch(batch, now);
  if (batch.resets !== undefined && batch.resets.length > 0) await store.reset(batch.resets);
  if (batch.forgives !== undefined && batch.forgives.length > 0) await store.forgive(batch.forgives, now);
  const [hits, peeks, gets] = await Promise.all([
    batch.hits === undefined || batch.hits.length === 0 ? [] : store.hit(batch.hits, now),
    batch.peeks === undefined || batch.peeks.length === 0 ? [] : store.peek(batch.peeks, now),
    Promise.all((batch.gets ?? []).map((key) => store.get(key, now))),
  ]);
  return { hits, peeks, gets };
}
