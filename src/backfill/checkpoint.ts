// Node only (files): the backfill's checkpoint, written after each page and read by `--resume`.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { isJsonObject } from "../core/json.js";
import { ReportError } from "./report.js";

/** Where a run stands: written after each page, read by `--resume`. */
export interface Checkpoint {
  version: 1;
  /** The report this run appends to. */
  report: string;
  adminUrl: string;
  dryRun: boolean;
  /** The last id such that it and every id before it are done (keyset order); null before the first page. */
  after: string | null;
}

/** The checkpoint of a report: next to it, `<report>.checkpoint`. */
export function checkpointPathOf(report: string): string {
  return `${report}.checkpoint`;
}

/** Written to a temporary file and renamed, so a crash leaves the old checkpoint or the new one, never half of one. */
export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(checkpoint, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

export function readCheckpoint(path: string): Checkpoint {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ReportError(
      `--resume ${path}: expected a checkpoint written by kratos-hooks backfill, found ${(error as NodeJS.ErrnoException).code ?? "no JSON"}`,
    );
  }
  if (
    !isJsonObject(value) ||
    value.version !== 1 ||
    typeof value.report !== "string" ||
    typeof value.adminUrl !== "string" ||
    typeof value.dryRun !== "boolean" ||
    !(value.after === null || typeof value.after === "string")
  ) {
    throw new ReportError(`--resume ${path}: expected a checkpoint written by kratos-hooks backfill (version 1), found something else`);
  }
  return value as unknown as Checkpoint;
}

/** The checkpoint of one run: the same run fields each time, `after` moving on. */
export function checkpointer(path: string, run: Omit<Checkpoint, "version" | "after">): (after: string | null) => void {
  return (after) => writeCheckpoint(path, { version: 1, ...run, after });
}
