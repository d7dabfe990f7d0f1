/** One counter to add one to, with the length of its window. */
export interface CounterHit {
  key: string;
  /** The window starts at the counter's first hit and is not extended by later hits; then the counter is gone. */
  windowMs: number;
}

/** A counter as a store holds it. */
export interface Counter {
  count: number;
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
  /** Adds one to each counter (created with its window at its first hit) and returns each after the hit, in order. */
  hit(hits: readonly CounterHit[], now: number): Promise<Counter[]>;
  /** Each counter, or undefined where there is none (never hit, window over, or reset). */
  peek(keys: readonly string[], now: number): Promise<(Counter | undefined)[]>;
  /** Removes counters (and notes) by key. */
  reset(keys: readonly string[]): Promise<void>;
  /** Keeps a note under a key for `ttlMs`, replacing any earlier one. */
  put(key: string, value: string, ttlMs: number, now: number): Promise<void>;
  /** The note under a key, or undefined when there is none or its time is over. */
  get(key: string, now: number): Promise<string | undefined>;
}
