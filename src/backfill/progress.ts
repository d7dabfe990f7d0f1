import { STATUSES, type Status } from "./report.js";

/** Where the backfill talks to a person: stderr for progress, stdout for the summary. */
export interface BackfillIO {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal: draw a bar in place instead of printing lines. */
  isTTY: boolean;
  /** Fires on SIGINT: finish the writes in flight, write the checkpoint, stop. */
  signal: AbortSignal;
}

const number = (n: number) => n.toLocaleString("en-US");

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${Math.round(seconds)}s`;
  return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
}

/**
 * Progress on stderr: on a terminal a bar redrawn in place (done, total, rate, ETA) at most ten
 * times a second; elsewhere (CI, a log file) a plain line every five seconds. Counts only: no
 * identity's data is ever printed.
 */
export class Progress {
  private done = 0;
  private readonly started = performance.now();
  /** A bar is drawn at once; a line is first printed five seconds in (or at the end). */
  private lastDraw: number;

  constructor(
    private readonly io: BackfillIO,
    private readonly total: number,
    private readonly label: string,
  ) {
    this.lastDraw = io.isTTY ? Number.NEGATIVE_INFINITY : this.started;
  }

  tick(count = 1): void {
    this.done += count;
    const now = performance.now();
    if (now - this.lastDraw < (this.io.isTTY ? 100 : 5_000) && this.done < this.total) return;
    this.lastDraw = now;
    this.draw(now);
  }

  private draw(now: number): void {
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const eta = rate > 0 ? (this.total - this.done) / rate : Number.POSITIVE_INFINITY;
    const share = this.total === 0 ? 1 : this.done / this.total;
    const figures = `${number(this.done)}/${number(this.total)} ${Math.floor(share * 100)}%  ${number(Math.round(rate))}/s  ETA ${duration(eta)}`;
    if (this.io.isTTY) {
      const width = 24;
      const filled = Math.round(share * width);
      this.io.err(`\r${this.label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${figures}\u001b[K`);
    } else {
      this.io.err(`${this.label}: ${figures}\n`);
    }
  }

  /** Ends the bar's line on a terminal. */
  finish(): void {
    if (this.io.isTTY) this.io.err("\n");
  }
}

/** The closing table: the count of each status, and where the report is. */
export function summaryTable(counts: ReadonlyMap<Status, number>, report: string, dryRun: boolean): string {
  const rows = STATUSES.filter(
    (status) => (counts.get(status) ?? 0) > 0 || status === (dryRun ? "would_update" : "updated") || status === "unchanged",
  );
  const width = Math.max(...rows.map((s) => s.length));
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return [
    `  ${"status".padEnd(width)}  count`,
    ...rows.map((status) => `  ${status.padEnd(width)}  ${number(counts.get(status) ?? 0).padStart(5)}`),
    `  ${"total".padEnd(width)}  ${number(total).padStart(5)}`,
    `report: ${report} (one line per identity; it holds personal data, so it is readable by its owner only: mode 0600)`,
  ].join("\n");
}
