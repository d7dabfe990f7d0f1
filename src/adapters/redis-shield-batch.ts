import type { StoreBatch, StoreBatchResult } from "../gateway/shield/store.js";

// The Redis store's one script: every operation but DEL, SET and GET goes through it, so that a
// batch of them is one round trip.

/**
 * DEL, FORGIVE, HIT, PEEK and GET in one round trip: KEYS are the resets', the forgives', the
 * hits', the peeks', then the notes'; ARGV: now, the number of resets, forgives, hits and peeks,
 * then each hit's window. Returns a triple per hit, a quadruple per peek, then each note or false.
 * - forgive: one more forgiven hit (`f`) of a live counter, in its own window; a missing key or a
 *   note is left alone;
 * - hit: add one, remember the caller's `now`, and start the window at the first hit only (a new
 *   hash has no TTL yet, nor has one whose TTL something else removed: it gets one). The window's
 *   end is kept in the hash (`r`, the first hit's `now` plus the window), so that every hit and
 *   peek of one window names the same end;
 * - peek: count, the window's end (the TTL, negated, for a hash written before `r` was kept),
 *   lastAt, forgiven; zeros where there is no counter (none, or a note).
 */
export const BATCH = `
local now = tonumber(ARGV[1])
local resets = tonumber(ARGV[2])
local forgives = tonumber(ARGV[3])
local hits = tonumber(ARGV[4])
local peeks = tonumber(ARGV[5])
local out = {}
for i = 1, resets do
  redis.call('DEL', KEYS[i])
end
for i = resets + 1, resets + forgives do
  if redis.call('TYPE', KEYS[i]).ok == 'hash' then
    redis.call('HINCRBY', KEYS[i], 'f', 1)
  end
end
local first = resets + forgives
for i = 1, hits do
  local key = KEYS[first + i]
  local count = redis.call('HINCRBY', key, 'c', 1)
  redis.call('HSET', key, 'l', ARGV[1])
  local ttl = redis.call('PTTL', key)
  local reset = tonumber(redis.call('HGET', key, 'r'))
  if ttl < 0 or reset == nil then
    if ttl < 0 then
      ttl = tonumber(ARGV[5 + i])
      redis.call('PEXPIRE', key, ttl)
    end
    reset = now + ttl
    redis.call('HSET', key, 'r', string.format('%.0f', reset))
  end
  out[#out + 1] = count
  out[#out + 1] = reset
  out[#out + 1] = tonumber(redis.call('HGET', key, 'f')) or 0
end
for i = first + hits + 1, first + hits + peeks do
  local key = KEYS[i]
  local ttl = redis.call('PTTL', key)
  if ttl > 0 and redis.call('TYPE', key).ok == 'hash' then
    local v = redis.call('HMGET', key, 'c', 'l', 'r', 'f')
    out[#out + 1] = tonumber(v[1]) or 0
    out[#out + 1] = tonumber(v[3]) or -ttl
    out[#out + 1] = tonumber(v[2]) or 0
    out[#out + 1] = tonumber(v[4]) or 0
  else
    out[#out + 1] = 0
    out[#out + 1] = 0
    out[#out + 1] = 0
    out[#out + 1] = 0
  end
end
for i = first + hits + peeks + 1, #KEYS do
  if redis.call('TYPE', KEYS[i]).ok == 'string' then
    out[#out + 1] = redis.call('GET', KEYS[i])
  else
    out[#out + 1] = false
  end
end
return out`;

/** `BATCH`'s KEYS (prefixed) and ARGV, in the order it reads them: what the script call sends. */
export function batchCall(batch: StoreBatch, prefix: string, now: number): { keys: string[]; args: number[] } {
  const hits = batch.hits ?? [];
  const keys = [
    ...(batch.resets ?? []),
    ...(batch.forgives ?? []),
    ...hits.map((h) => h.key),
    ...(batch.peeks ?? []),
    ...(batch.gets ?? []),
  ];
  const counts = [batch.resets?.length ?? 0, batch.forgives?.length ?? 0, hits.length, batch.peeks?.length ?? 0];
  const windows = hits.map((h) => Math.max(1, Math.ceil(h.windowMs)));
  return { keys: keys.map((k) => prefix + k), args: [now, ...counts, ...windows] };
}

/** `BATCH`'s answer read back: a triple per hit, a quadruple per peek, then each note or false. */
export function batchResult(batch: StoreBatch, out: readonly (number | string | null)[], now: number): StoreBatchResult {
  const hits = batch.hits ?? [];
  const peeks = batch.peeks ?? [];
  const gets = batch.gets ?? [];
  const num = (i: number) => Number(out[i] ?? 0);
  const p = 3 * hits.length;
  const g = p + 4 * peeks.length;
  return {
    hits: hits.map((_, i) => ({ count: num(3 * i), resetAt: num(3 * i + 1) || now, forgiven: num(3 * i + 2), lastAt: now })),
    peeks: peeks.map((_, i) => {
      const [count, reset, lastAt, forgiven] = [num(p + 4 * i), num(p + 4 * i + 1), num(p + 4 * i + 2), num(p + 4 * i + 3)];
      return count > 0 ? { count, forgiven, resetAt: reset < 0 ? now - reset : reset, lastAt } : undefined;
    }),
    gets: gets.map((_, i) => {
      const note = out[g + i];
      return typeof note === "string" ? note : undefined;
    }),
  };
}
