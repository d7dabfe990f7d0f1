import { describe, expect, it } from "vitest";
import { type BackfillIO, Progress, summaryTable } from "../../src/backfill/progress.js";

function io(isTTY: boolean): BackfillIO & { written: () => string } {
  const chunks: string[] = [];
  return { out: () => {}, err: (t) => chunks.push(t), isTTY, signal: new AbortController().signal, written: () => chunks.join("") };
}

describe("progress and the closing table", () => {
  it("on a terminal: one bar redrawn in place, with done, total, share, rate and ETA", () => {
    const tty = io(true);
    const progress = new Progress(tty, 4, "backfill");
    for (let i = 0; i < 4; i++) progress.tick();
    progress.finish();
    expect(tty.written()).toMatch(/^\rbackfill \[#{6}\.{18}\] 1\/4 25% {2}\d[\d,]*\/s {2}ETA \d+s/);
    expect(tty.written()).toContain("\u001b[K"); // clears what a longer line left
    expect(tty.written()).toMatch(/\rbackfill \[#{24}\] 4\/4 100% .*\n$/);
    expect(tty.written().split("\n")).toHaveLength(2);
  });

  it("elsewhere: a plain line every five seconds, and one at the end", () => {
    const plain = io(false);
    const progress = new Progress(plain, 3, "dry run");
    for (let i = 0; i < 3; i++) progress.tick();
    expect(plain.written()).toMatch(/^dry run: 3\/3 100% {2}[\d,]+\/s {2}ETA 0s\n$/);
  });

  it("the table counts each status, names the report and says it holds personal data", () => {
    const table = summaryTable(
      new Map([
        ["updated", 1200],
        ["collision", 2],
      ]),
      "/tmp/r.jsonl",
      false,
    );
    expect(table).toBe(
      [
        "  status     count",
        "  updated    1,200",
        "  unchanged      0",
        "  collision      2",
        "  total      1,202",
        "report: /tmp/r.jsonl (one line per identity; it holds personal data, so it is readable by its owner only: mode 0600)",
      ].join("\n"),
    );
  });
});
