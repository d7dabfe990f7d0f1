// Node only (files): the backfill's report (its checkpoint: checkpoint.ts).
import { chmodSync, closeSync, existsSync, openSync, readFileSync, writeSync } from "node:fs";
import { isJsonObject } from "../core/json.js";

export const STATUSES = ["updated", "would_update", "unchanged", "invalid", "collision", "denied", "failed"] as const;
export type Status = (typeof STATUSES)[number];

/** One line of the report: one identity. The other fields depend on the status. */
export interface ReportLine {
  id: string;
  status: Status;
  [field: string]: unknown;
}

/**
 * The report: JSON Lines, one line per identity, appended as each identity is done and written
 * at once (a crash loses no line that was reported done). It holds personal data (the numbers
 * before and after), so it is created readable by its owner only (0600).
 */
/** Whether the file's last byte is not a newline (an empty file is not mid-line). */
function endsMidLine(path: string): boolean {
  const text = readFileSync(path);
  return text.length > 0 && text[text.length - 1] !== 0x0a;
}

export class Report {
  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  /** Opens the report: a new file, or, for a resumed run, the existing one to append to. */
  static open(path: string, resume: boolean): Report {
    if (!resume && existsSync(path)) {
      throw new ReportError(`${path} exists: resume the run that wrote it with --resume ${path}.checkpoint, or choose another --report`);
    }
    // A kill can cut the last line short: end it first, so that the next line is a line of its own
    // (readReport skips the fragment, whose identity is then done again).
    const cut = resume && existsSync(path) && endsMidLine(path);
    const fd = openSync(path, "a", 0o600);
    chmodSync(path, 0o600);
    if (cut) writeSync(fd, "\n");
    return new Report(path, fd);
  }

  write(line: ReportLine): void {
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** A report or checkpoint that cannot be used as asked (a usage error: exit 2). */
export class ReportError extends Error {
  override name = "ReportError";
}

/** What an existing report already says: the ids it has a line for, and the count of each status. */
export function readReport(path: string): { ids: Set<string>; counts: Map<Status, number> } {
  const ids = new Set<string>();
  const counts = new Map<Status, number>();
  if (!existsSync(path)) return { ids, counts };
  for (const text of readFileSync(path, "utf8").split("\n")) {
    if (text.trim() === "") continue;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      // A line cut short by a crash: its identity is done again.
      continue;
    }
    if (!isJsonObject(line) || typeof line.id !== "string" || !(STATUSES as readonly unknown[]).includes(line.status)) continue;
    ids.add(line.id);
    counts.set(line.status as Status, (counts.get(line.status as Status) ?? 0) + 1);
  }
  return { ids, counts };
}
