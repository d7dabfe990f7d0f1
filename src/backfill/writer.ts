import { type AdminAPI, AdminError, type AdminFailure, backoff, isTransient, mayRetry, type RetryOptions } from "./admin.js";
import { matches, patchFor, planIdentity, type StoredIdentity, storedPhones } from "./plan.js";
import type { ReportLine } from "./report.js";
import { detailOf, type Entry, type PlanContext, statusOf } from "./scan.js";

export interface WriterOptions {
  admin: AdminAPI;
  context: PlanContext;
  /** Re-reads and writes in flight at once. */
  concurrency: number;
  retries: RetryOptions;
  /** Told of each PATCH retried (the admin API reports its own retries of reads). */
  onRetry?: ((failure: AdminFailure) => void) | undefined;
}

/** What the batched re-read found: the identities still there by id, or why the read failed. */
type Reread = Map<string, StoredIdentity> | AdminFailure;

export function failed(id: string, reason: string, failure?: AdminFailure): ReportLine {
  return {
    id,
    status: "failed",
    reason,
    ...(failure?.status !== undefined && { http_status: failure.status }),
    ...(failure && { detail: failure.reason }),
  };
}

/** Runs `work` over `items` with at most `limit` at once; stops taking new items once `stop()` says so. */
export async function pool<T>(items: readonly T[], limit: number, stop: () => boolean, work: (item: T) => Promise<void>): Promise<number> {
  let next = 0;
  let started = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !stop()) {
      const item = items[next++] as T;
      started++;
      await work(item);
    }
  });
  await Promise.all(runners);
  return started;
}

/**
 * The re-read before a write takes one request for the next `batchSize` identities to write
 * (`?ids=`), made when the first of them is due, instead of one request per identity. Writers
 * never wait for a whole batch: each takes the next identity as soon as it is free.
 */
export function rereader(admin: AdminAPI, pending: readonly Entry[], batchSize: number): (index: number) => Promise<Reread> {
  const reads = new Map<string, Promise<Reread>>();
  return (index) => {
    const id = (pending[index] as Entry).id;
    const known = reads.get(id);
    if (known !== undefined) return known;
    const batch = pending.slice(index, index + batchSize).filter((e) => !reads.has(e.id));
    const read = admin.getMany(batch.map((e) => e.id)).catch((error: unknown) => {
      if (!(error instanceof AdminError)) throw error;
      return error.failure;
    });
    for (const entry of batch) reads.set(entry.id, read);
    return read;
  };
}

/**
 * Writes one identity from its state as re-read just now: skipped if it is gone or its phones
 * changed since the scan, else PATCHed, with retries of transient failures. A write whose answer
 * is lost is read back before trying again: if it committed, it was ours.
 */
export async function writeOne(entry: Entry, reread: Reread, options: WriterOptions): Promise<ReportLine> {
  const { admin, context, retries } = options;
  const { fields } = context;
  if (!(reread instanceof Map)) return failed(entry.id, "read_failed", reread);
  const fresh = reread.get(entry.id);
  if (fresh === undefined) return failed(entry.id, "deleted");
  if (JSON.stringify(storedPhones(fresh, fields)) !== JSON.stringify(entry.listed)) return failed(entry.id, "changed_concurrently");
  const plan = await planIdentity(fresh, context.policies);
  if (plan.kind !== "change") return { id: entry.id, status: statusOf(plan.kind, false), ...detailOf(fresh, plan, fields) };
  const ops = patchFor(fresh, plan.result, fields);
  const detail = detailOf(fresh, plan, fields);
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.patch(entry.id, ops);
      return { id: entry.id, status: "updated", ...detail, ...(attempt > 1 && { attempts: attempt }) };
    } catch (error) {
      if (!(error instanceof AdminError)) throw error;
      const { failure } = error;
      if (failure.kind === "conflict") return failed(entry.id, "conflict", failure);
      if (failure.kind === "not_found") return failed(entry.id, "deleted", failure);
      if (!isTransient(failure)) return failed(entry.id, "refused", failure);
      if (!mayRetry(failure, attempt, retries)) return failed(entry.id, "retries_exhausted", failure);
      options.onRetry?.(failure);
      await backoff(attempt, retries, failure);
      // The answer is lost, not necessarily the write: read it back before trying again.
      let now: StoredIdentity;
      try {
        now = await admin.get(entry.id);
      } catch (readError) {
        if (!(readError instanceof AdminError)) throw readError;
        return failed(entry.id, "read_failed", readError.failure);
      }
      if (matches(now, plan.result))
        return { id: entry.id, status: "updated", ...detail, attempts: attempt, committed_before_answer: true };
      if (JSON.stringify(storedPhones(now, fields)) !== JSON.stringify(entry.listed)) return failed(entry.id, "changed_concurrently");
    }
  }
}

/**
 * Writes the identities of one page, `concurrency` at a time, each from a batched re-read;
 * `record` takes each one's line. Stops taking new ones once `stop()` says so (the writes in
 * flight finish). Returns how many were started: fewer than `pending.length` means stopped.
 */
export async function writePage(
  pending: readonly Entry[],
  options: WriterOptions,
  stop: () => boolean,
  record: (line: ReportLine) => void,
): Promise<number> {
  const freshFor = rereader(options.admin, pending, 4 * options.concurrency);
  return pool(
    pending.map((entry, index) => ({ entry, index })),
    options.concurrency,
    stop,
    async ({ entry, index }) => record(await writeOne(entry, await freshFor(index), options)),
  );
}
