import { resolve } from "node:path";
import { type AdminFailure, createAdminAPI } from "../backfill/admin.js";
import { type Checkpoint, readCheckpoint } from "../backfill/checkpoint.js";
import type { BackfillIO } from "../backfill/progress.js";
import { ReportError } from "../backfill/report.js";
import { BackfillStartError, runBackfill } from "../backfill/run.js";
import { loadCliConfig } from "./cli-config.js";
import { parseRegion } from "./region-option.js";
import { UsageError } from "./usage.js";

export interface BackfillArgs {
  adminUrl?: string | undefined;
  token?: string | undefined;
  region?: string | undefined;
  dryRun?: boolean | undefined;
  report?: string | undefined;
  concurrency?: string | undefined;
  config?: string | undefined;
  resume?: string | undefined;
}

/** `backfill-20261130T205501Z.jsonl`: the default report name, in the working directory. */
function defaultReport(now: Date): string {
  return `backfill-${now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z")}.jsonl`;
}

function parseConcurrency(value: string | undefined): number {
  if (value === undefined) return 4;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new UsageError(`--concurrency: expected an integer from 1 to 64, found ${JSON.stringify(value)}`);
  return n;
}

/** `kratos-hooks backfill`: exit 0 when every identity ended updated or unchanged, 1 otherwise, 2 on a usage error or an admin API that cannot be used. */
export async function backfillCommand(
  args: BackfillArgs,
  io: BackfillIO,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  if (args.adminUrl === undefined) throw new UsageError("backfill needs --admin-url <Kratos's admin URL>, e.g. http://127.0.0.1:4434");
  let adminUrl: string;
  try {
    const url = new URL(args.adminUrl);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
    adminUrl = url.href.replace(/\/$/, "");
  } catch {
    throw new UsageError(`--admin-url: expected an http(s) URL such as http://127.0.0.1:4434, found ${JSON.stringify(args.adminUrl)}`);
  }
  const concurrency = parseConcurrency(args.concurrency);
  const region = parseRegion(args.region);
  const dryRun = args.dryRun === true;
  let resume: Checkpoint | undefined;
  let report = resolve(args.report ?? defaultReport(new Date()));
  try {
    if (args.resume !== undefined) {
      resume = readCheckpoint(args.resume);
      if (args.report !== undefined && resolve(args.report) !== resume.report) {
        throw new UsageError(`--report: the checkpoint belongs to ${resume.report}; leave --report out to append to it`);
      }
      if (resume.dryRun !== dryRun)
        throw new UsageError(
          `--resume: the checkpoint is of a ${resume.dryRun ? "dry" : "real"} run; ${resume.dryRun ? "add" : "leave out"} --dry-run`,
        );
      if (resume.adminUrl !== adminUrl)
        throw new UsageError(`--resume: the checkpoint is of a run against ${resume.adminUrl}, not ${adminUrl}`);
      report = resume.report;
    }
    const { config } = loadCliConfig(args.config);
    // Retries are counted by kind for the operator (429s say the admin API's rate limit is near).
    const retried = new Map<string, number>();
    const onRetry = (failure: AdminFailure) => {
      const kind =
        failure.status === undefined
          ? failure.reason
          : `${failure.status}${/concurrent update/i.test(failure.reason) ? " concurrent update" : ""}`;
      retried.set(kind, (retried.get(kind) ?? 0) + 1);
    };
    const admin = createAdminAPI(adminUrl, { token: args.token ?? env.KRATOS_ADMIN_TOKEN, onRetry });
    const result = await runBackfill({ adminUrl, admin, config, region, dryRun, report, concurrency, resume, onRetry }, io);
    if (retried.size > 0) {
      const total = [...retried.values()].reduce((a, b) => a + b, 0);
      io.err(`retried ${total} request(s): ${[...retried].map(([kind, n]) => `${kind} ×${n}`).join(", ")}\n`);
    }
    return result.exitCode;
  } catch (error) {
    if (error instanceof ReportError || error instanceof BackfillStartError) throw new UsageError(error.message);
    throw error;
  }
}
