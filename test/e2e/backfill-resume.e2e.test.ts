import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createAll, type Seed, seeds } from "./backfill-seed.js";
import { backfill, dump, reportLines } from "./backfill-support.js";
import { type Fault, FaultProxy } from "./fault-proxy.js";
import { useStack } from "./stack.js";

// A backfill stopped halfway, gracefully (SIGINT) and hard (SIGKILL), then resumed: the same end
// state, one report line per identity across both runs, no identity written twice. Each case
// seeds a series of its own (its own numbers) into the same Kratos.
const e2e = useStack();
let proxy: FaultProxy;

beforeAll(async () => {
  proxy = await FaultProxy.start(e2e.stack.kratosAdmin);
  // Each write takes a little longer, so that the run is still going when the signal comes.
  proxy.rule = async ({ method }): Promise<Fault> => {
    if (method === "PATCH") await new Promise((resolve) => setTimeout(resolve, 10));
    return "forward";
  };
  return () => proxy.close();
});

/** Waits until the report has at least `n` lines. */
async function linesAtLeast(file: string, n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (existsSync(file) && readFileSync(file, "utf8").split("\n").filter(Boolean).length >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the report never reached ${n} lines`);
}

async function interruptedThenResumed(series: number, signal: NodeJS.Signals) {
  const list: Seed[] = seeds(700, 0, series);
  const ids = await createAll(e2e.kratos.admin, list);
  const report = join(process.env.TMPDIR ?? "/tmp", `resume-${signal}-${process.pid}.jsonl`);
  const args = ["--admin-url", proxy.url, "--region", "DE", "--report", report];
  const committedBefore = proxy.patchesCommitted();

  const first = backfill(args);
  await linesAtLeast(report, 150);
  first.child.kill(signal);
  const firstExit = await first.exit;
  const checkpoint = `${report}.checkpoint`;
  expect(existsSync(checkpoint)).toBe(true);
  const linesAfterFirst = reportLines(report).length;

  const second = backfill(["--admin-url", proxy.url, "--region", "DE", "--resume", checkpoint]);
  expect(await second.exit).toBe(1); // collisions, invalid numbers, a disposable domain

  const lines = reportLines(report);
  const mine = new Set(ids);
  const ours = lines.filter((l) => mine.has(l.id));
  expect(ours).toHaveLength(700);
  expect(new Set(ours.map((l) => l.id)).size).toBe(700);
  // Written at most once each, over both runs.
  const committed = proxy.patchesCommitted();
  for (const id of ids) expect((committed.get(id) ?? 0) - (committedBefore.get(id) ?? 0)).toBeLessThanOrEqual(1);
  // The same end state as an uninterrupted run.
  const after = await dump(e2e.kratos.admin);
  list.forEach((seed, i) => {
    const now = after.get(ids[i] as string) as Record<string, unknown>;
    expect({ schema_id: now.schema_id, traits: now.traits }).toEqual({ schema_id: seed.expected.schema_id, traits: seed.expected.traits });
  });
  return { firstExit, firstStderr: first.stderr(), linesAfterFirst, checkpoint, lines: ours };
}

describe("an interrupted backfill resumes to the same end state", () => {
  it("SIGINT: the writes in flight finish, the checkpoint is written, the command says how to go on and exits 1", async () => {
    const { firstExit, firstStderr, linesAfterFirst, checkpoint, lines } = await interruptedThenResumed(1, "SIGINT");
    expect(firstExit).toBe(1);
    expect(firstStderr).toContain(`--resume ${checkpoint}`);
    expect(linesAfterFirst).toBeGreaterThanOrEqual(150);
    expect(linesAfterFirst).toBeLessThan(700);
    expect(lines.filter((l) => l.status === "updated").length).toBeGreaterThan(400);
  });

  it("SIGKILL: nothing is finished gracefully, and still every identity ends with one line and one write at most", async () => {
    const { firstExit, lines } = await interruptedThenResumed(2, "SIGKILL");
    expect(firstExit).toBeNull();
    // A write that committed but had no line yet is found done on resume and reported unchanged.
    expect(lines.filter((l) => l.status === "updated" || l.status === "unchanged").length).toBeGreaterThan(450);
  });

  it("refuses to resume a checkpoint with another admin URL or the other mode, and to overwrite a report", async () => {
    const report = join(process.env.TMPDIR ?? "/tmp", `resume-SIGINT-${process.pid}.jsonl`);
    const checkpoint = `${report}.checkpoint`;
    const dry = backfill(["--admin-url", proxy.url, "--resume", checkpoint, "--dry-run"]);
    expect(await dry.exit).toBe(2);
    expect(dry.stderr()).toContain("the checkpoint is of a real run");
    const elsewhere = backfill(["--admin-url", "http://127.0.0.1:1", "--resume", checkpoint]);
    expect(await elsewhere.exit).toBe(2);
    const again = backfill(["--admin-url", proxy.url, "--report", report]);
    expect(await again.exit).toBe(2);
    expect(again.stderr()).toContain("exists: resume the run that wrote it");
  });
});
