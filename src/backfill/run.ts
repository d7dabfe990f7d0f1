import type { CountryCode } from "libphonenumber-js/max";
import type { Config } from "../config/schema.js";
import { type AdminAPI, AdminError, type AdminFailure, DEFAULT_RETRIES, isTransient, type RetryOptions } from "./admin.js";
import { type Checkpoint, checkpointer, checkpointPathOf } from "./checkpoint.js";
import { type BackfillIO, Progress, summaryTable } from "./progress.js";
import { Report, type ReportLine, readReport, type Status } from "./report.js";
import { needsWrite, type PlanContext, planContext, remaining, type ScanResult, scan, scannedLine } from "./scan.js";
import { writePage } from "./writer.js";

/** Kratos v1.3.1 allows up to 500 identities per page with keyset pagination (contract §10). */
export const PAGE_SIZE = 500;

export interface BackfillOptions {
  adminUrl: string;
  admin: AdminAPI;
  config: Config;
  /** `--region`: reads national numbers, in place of `normalizePhone.defaultRegion`. */
  region?: CountryCode | undefined;
  dryRun: boolean;
  report: string;
  /** Re-reads and writes in flight at once. */
  concurrency: number;
  /** A checkpoint to go on from (`--resume`). */
  resume?: Checkpoint | undefined;
  retries?: RetryOptions;
  /** Told of each PATCH retried (the admin API reports its own retries of reads). */
  onRetry?: (failure: AdminFailure) => void;
  pageSize?: number;
}

export interface BackfillResult {
  /** Counts over the whole report (a resumed run's earlier lines included). */
  counts: Map<Status, number>;
  interrupted: boolean;
  exitCode: 0 | 1;
  checkpoint: string;
}

/** A failure before anything was done: the admin API is unreachable or refuses the token (exit 2). */
export class BackfillStartError extends Error {
  override name = "BackfillStartError";
}

const OK: ReadonlySet<Status> = new Set(["updated", "would_update", "unchanged"]);

/** What a failed listing means: an admin API that cannot be used at all (exit 2), or a scan cut short. */
function scanFailure(error: unknown, listed: number, adminUrl: string): unknown {
  if (!(error instanceof AdminError)) return error;
  const { failure } = error;
  if (listed === 0 && (failure.kind === "unreachable" || failure.kind === "unauthorized" || isTransient(failure))) {
    return new BackfillStartError(
      failure.kind === "unauthorized"
        ? `the admin API at ${adminUrl} refused the request (${failure.status}: ${failure.reason}); pass its token with --token or KRATOS_ADMIN_TOKEN`
        : `the admin API at ${adminUrl} cannot be reached (${failure.status ?? failure.reason}); is it Kratos's admin URL (port 4434 by default)?`,
    );
  }
  return new Error(
    `listing identities failed after ${listed} (${failure.status ?? ""} ${failure.reason}); nothing was written, run it again`,
  );
}

/** The scan: every identity listed and planned, no write before it has seen them all. */
async function scanAll(options: BackfillOptions, io: BackfillIO, context: PlanContext, pageSize: number) {
  let listed = 0;
  let scanned: ScanResult;
  try {
    scanned = await scan(
      options.admin.pages(pageSize),
      context,
      options.dryRun,
      (count) => {
        listed = count;
        io.err(io.isTTY ? `\rscanning: ${listed.toLocaleString("en-US")} identities\u001b[K` : "");
      },
      () => io.signal.aborted,
    );
  } catch (error) {
    throw scanFailure(error, listed, options.adminUrl);
  }
  if (io.isTTY) io.err("\n");
  return { scanned, listed };
}

/**
 * The writes, page by page in id order, resuming where a checkpoint says: one report line per
 * identity, a checkpoint after each page. Returns the counts over the whole report.
 */
async function writeAll(options: BackfillOptions, io: BackfillIO, scanned: ScanResult, context: PlanContext, checkpointPath: string) {
  const { dryRun } = options;
  const { entries, collisions } = scanned;
  const pageSize = options.pageSize ?? PAGE_SIZE;
  const earlier = options.resume === undefined ? { ids: new Set<string>(), counts: new Map<Status, number>() } : readReport(options.report);
  const after = options.resume?.after ?? null;
  const todo = remaining(entries, earlier.ids, after);
  const counts = new Map(earlier.counts);
  const report = Report.open(options.report, options.resume !== undefined);
  const saveCheckpoint = checkpointer(checkpointPath, { report: options.report, adminUrl: options.adminUrl, dryRun });
  // A checkpoint exists from the first write on, so that even a run killed hard can be resumed.
  saveCheckpoint(after);
  const progress = new Progress(io, todo.length, dryRun ? "dry run" : "backfill");
  const record = (line: ReportLine) => {
    report.write(line);
    counts.set(line.status, (counts.get(line.status) ?? 0) + 1);
    progress.tick();
  };
  const writer = {
    admin: options.admin,
    context,
    concurrency: options.concurrency,
    retries: options.retries ?? DEFAULT_RETRIES,
    onRetry: options.onRetry,
  };

  let interrupted = false;
  // Every id up to the watermark is done; ids done beyond it (a page cut short) have their line.
  let watermark = after;
  try {
    for (let start = 0; start < todo.length && !interrupted; start += pageSize) {
      if (io.signal.aborted) {
        interrupted = true;
        break;
      }
      const page = todo.slice(start, start + pageSize);
      for (const entry of page) if (!needsWrite(entry, collisions, dryRun)) record(scannedLine(entry, collisions, dryRun));
      const pending = page.filter((entry) => needsWrite(entry, collisions, dryRun));
      const started = await writePage(pending, writer, () => io.signal.aborted, record);
      if (started < pending.length) {
        interrupted = true;
        break;
      }
      watermark = page[page.length - 1]?.id ?? watermark;
      saveCheckpoint(watermark);
    }
  } finally {
    report.close();
    progress.finish();
    if (interrupted) saveCheckpoint(watermark);
  }
  return { counts, interrupted };
}

/**
 * Brings the identities stored before the hooks to what the hooks would make of them today:
 * 1. Scan: list every identity (keyset pages, one at a time), run the registration-after
 *    policies on each, and group them by the E.164 form of their phones.
 * 2. Write, in id order, `concurrency` at a time, skipping every member of a group of more than
 *    one identity (a collision): re-read, check the phone is still as listed, PATCH. A write whose
 *    answer is lost is read back: if it committed, it was ours. A checkpoint after each page.
 * One report line per identity; a dry run does the scan and reports what the write would do.
 */
export async function runBackfill(options: BackfillOptions, io: BackfillIO): Promise<BackfillResult> {
  const { dryRun } = options;
  const context = planContext(options.config, options.region);
  const checkpointPath = checkpointPathOf(options.report);

  // 1. The scan. No write happens before it has seen every identity.
  const scanStarted = performance.now();
  const { scanned, listed } = await scanAll(options, io, context, options.pageSize ?? PAGE_SIZE);
  const scanSeconds = (performance.now() - scanStarted) / 1000;
  if (scanned.stopped || io.signal.aborted) {
    io.err(`interrupted while scanning (${listed} identities listed): nothing was written\n`);
    return { counts: new Map(), interrupted: true, exitCode: 1, checkpoint: checkpointPath };
  }

  // 2. The writes.
  const { counts, interrupted } = await writeAll(options, io, scanned, context, checkpointPath);
  const exitCode = !interrupted && [...counts].every(([status, n]) => n === 0 || OK.has(status)) ? 0 : 1;
  const seconds = (s: number) => `${s.toFixed(1)} s`;
  io.out(
    `${dryRun ? "dry run" : "backfill"} against ${options.adminUrl}: ${scanned.entries.length.toLocaleString("en-US")} identities, ` +
      `scanned in ${seconds(scanSeconds)}, ${dryRun ? "reported" : "written"} in ${seconds((performance.now() - scanStarted) / 1000 - scanSeconds)}\n`,
  );
  io.out(`${summaryTable(counts, options.report, dryRun)}\n`);
  if (interrupted) {
    io.err(
      `interrupted: the writes in flight finished and every identity done has its line. Go on with:\n  kratos-hooks backfill --admin-url ${options.adminUrl} --resume ${checkpointPath}${dryRun ? " --dry-run" : ""}\n`,
    );
  }
  return { counts, interrupted, exitCode, checkpoint: checkpointPath };
}
