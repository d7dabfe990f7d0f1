// The backfill's section of `npm run bench`: identities per second at 10,000 identities on Kratos
// with DSN=memory, dry and real, against the baseline of a plain loop of the very same PATCH
// requests at the same concurrency (each on a Kratos seeded alike). Seeded without passwords, so
// that bcrypt is not what is measured.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AdminError, backoff, classify, createAdminAPI, DEFAULT_RETRIES, mayRetry } from "../../src/backfill/admin.js";
import { type PatchOp, patchFor, planIdentity } from "../../src/backfill/plan.js";
import { resolveKratos } from "../../src/cli/kratos-binary.js";
import { parseConfig } from "../../src/config/parse.js";
import { createPolicies } from "../../src/core/policies/index.js";
import { createAll, seeds } from "../e2e/backfill-seed.js";
import { startStack } from "../e2e/stack.js";
import { table } from "./table.js";

const BIN = fileURLToPath(new URL("../../dist/src/cli/bin.js", import.meta.url));
/**
 * SQLite (DSN=memory) takes one write at a time: at a concurrency above one, the backfill and the
 * loop alike spend their time in lock-contention retries, which measures SQLite, not the backfill.
 * `BENCH_BACKFILL_CONCURRENCY=4` measures that anyway.
 */
const CONCURRENCY = Number(process.env.BENCH_BACKFILL_CONCURRENCY ?? 1);

export interface BackfillFigures {
  identities: number;
  writes: number;
  dry: { seconds: number; perSecond: number; peakRssMiB: number };
  real: { seconds: number; perSecond: number; peakRssMiB: number; retried: string };
  /** The plain loop of the same PATCH requests, same concurrency: writes per second. */
  loop: { seconds: number; writesPerSecond: number; retries: number };
}

/** Runs the built command and measures its wall time and peak resident memory (VmHWM). */
async function timedBackfill(args: string[]): Promise<{ seconds: number; peakRssMiB: number; stderr: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, "backfill", ...args], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { PATH: process.env.PATH },
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  let peak = 0;
  const poll = setInterval(() => {
    try {
      peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0) / 1024);
    } catch {
      // gone
    }
  }, 50);
  const [code] = await once(child, "exit");
  clearInterval(poll);
  if (code !== 0 && code !== 1) throw new Error(`backfill exited ${code}: ${stderr}`);
  return { seconds: (performance.now() - started) / 1000, peakRssMiB: peak, stderr };
}

/** A Kratos with our seeds, for one measurement; the identity ids in seed order. */
async function seededKratos(count: number) {
  const stack = await startStack({}, { kratosBin: resolveKratos().path });
  const { Configuration, IdentityApi } = await import("@ory/client");
  const ids = await createAll(new IdentityApi(new Configuration({ basePath: stack.kratosAdmin })), seeds(count, 0));
  return { stack, ids };
}

export async function measureBackfill(quick: boolean): Promise<BackfillFigures> {
  const count = quick ? 1_000 : 10_000;
  const dir = mkdtempSync(join(tmpdir(), "kratos-hooks-bench-backfill-"));
  try {
    // The backfill, dry then real, on one Kratos.
    const first = await seededKratos(count);
    let dry: Awaited<ReturnType<typeof timedBackfill>>;
    let real: Awaited<ReturnType<typeof timedBackfill>>;
    // The seeds (by their place in the seed list) the backfill wrote.
    let written: Set<number>;
    try {
      const args = ["--admin-url", first.stack.kratosAdmin, "--region", "DE", "--concurrency", String(CONCURRENCY)];
      dry = await timedBackfill([...args, "--dry-run", "--report", join(dir, "dry.jsonl")]);
      real = await timedBackfill([...args, "--report", join(dir, "real.jsonl")]);
      const updated = new Set(
        readFileSync(join(dir, "real.jsonl"), "utf8")
          .split("\n")
          .filter((l) => l.includes('"status":"updated"'))
          .map((l) => (JSON.parse(l) as { id: string }).id),
      );
      written = new Set(first.ids.flatMap((id, i) => (updated.has(id) ? [i] : [])));
    } finally {
      await first.stack.stop();
    }
    const writes = written.size;

    // The baseline on a second Kratos seeded alike: the same PATCH requests (planned before the
    // clock starts), sent by a plain loop at the same concurrency, retrying SQLite's lock
    // contention as the backfill does (or the writes would not all happen).
    const second = await seededKratos(count);
    let loop: BackfillFigures["loop"];
    try {
      const admin = createAdminAPI(second.stack.kratosAdmin);
      const policies = createPolicies(parseConfig({ normalizePhone: { defaultRegion: "DE" } }, "bench"));
      const wanted = new Set(second.ids.filter((_, i) => written.has(i)));
      const patches: [string, PatchOp[]][] = [];
      for await (const page of admin.pages(500)) {
        for (const identity of page) {
          if (!wanted.has(identity.id)) continue;
          const plan = await planIdentity(identity, policies);
          if (plan.kind === "change") patches.push([identity.id, patchFor(identity, plan.result, ["phone"])]);
        }
      }
      if (patches.length !== writes) throw new Error(`the loop has ${patches.length} writes where the backfill made ${writes}`);
      let next = 0;
      let retries = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < patches.length) {
            const [id, ops] = patches[next++] as [string, PatchOp[]];
            for (let attempt = 1; ; attempt++) {
              try {
                await admin.patch(id, ops);
                break;
              } catch (error) {
                const failure = error instanceof AdminError ? error.failure : classify(error);
                if (!mayRetry(failure, attempt, DEFAULT_RETRIES)) throw error;
                retries++;
                await backoff(attempt, DEFAULT_RETRIES, failure);
              }
            }
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      loop = { seconds, writesPerSecond: patches.length / seconds, retries };
    } finally {
      await second.stack.stop();
    }
    return {
      identities: count,
      writes,
      dry: { seconds: dry.seconds, perSecond: count / dry.seconds, peakRssMiB: dry.peakRssMiB },
      real: {
        seconds: real.seconds,
        perSecond: count / real.seconds,
        peakRssMiB: real.peakRssMiB,
        retried: /retried (.*)/.exec(real.stderr)?.[1] ?? "none",
      },
      loop,
    };
  } finally {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}

/** The backfill's rows of the printed report, and its target. */
export function backfillReport(f: BackfillFigures): { lines: string[]; targets: [string, number, number, "≥" | "≤"][] } {
  const realWritesPerSecond = f.writes / f.real.seconds;
  const rows = [
    ["run", "seconds", "identities/s", "writes/s", "peak RSS MiB"],
    ["backfill --dry-run", f.dry.seconds.toFixed(1), f.dry.perSecond.toFixed(0), "", f.dry.peakRssMiB.toFixed(0)],
    [
      "backfill (real)",
      f.real.seconds.toFixed(1),
      f.real.perSecond.toFixed(0),
      realWritesPerSecond.toFixed(0),
      f.real.peakRssMiB.toFixed(0),
    ],
    ["baseline: a plain loop of the same PATCHes", f.loop.seconds.toFixed(1), "", f.loop.writesPerSecond.toFixed(0), ""],
    ["ratio backfill / loop (writes/s)", "", "", (realWritesPerSecond / f.loop.writesPerSecond).toFixed(2), ""],
  ];
  return {
    lines: [
      `Backfill: ${f.identities.toLocaleString("en-US")} identities (${f.writes.toLocaleString("en-US")} to write), Kratos v1.3.1 with DSN=memory, concurrency ${CONCURRENCY}; the report and the collision pass included`,
      table(rows),
      `Retries: the backfill ${f.real.retried}; the loop ${f.loop.retries} (SQLite's lock contention at concurrency ${CONCURRENCY})`,
    ],
    targets: [
      ["backfill ≥ 0.8 × a plain PATCH loop (writes/s)", Number((realWritesPerSecond / f.loop.writesPerSecond).toFixed(2)), 0.8, "≥"],
    ],
  };
}

/**
 * `tsx test/bench/backfill.ts --memory <count>`: the dry run's peak resident memory on an empty
 * Kratos and on one with <count> identities (100,000 takes a few minutes to seed), so the
 * scan's cost per identity can be read off. Not part of `npm run bench`.
 */
async function memory(count: number): Promise<void> {
  const peaks: number[] = [];
  for (const n of [0, count]) {
    const { stack } = await seededKratos(n);
    const dir = mkdtempSync(join(tmpdir(), "kratos-hooks-bench-memory-"));
    try {
      const run = await timedBackfill(["--admin-url", stack.kratosAdmin, "--region", "DE", "--dry-run", "--report", join(dir, "r.jsonl")]);
      peaks.push(run.peakRssMiB);
      process.stdout.write(`${n} identities: dry run ${run.seconds.toFixed(1)} s, peak RSS ${run.peakRssMiB.toFixed(0)} MiB\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await stack.stop();
    }
  }
  process.stdout.write(`≈ ${((((peaks[1] ?? 0) - (peaks[0] ?? 0)) * 1024 * 1024) / count).toFixed(0)} bytes per identity\n`);
}

const memoryFlag = process.argv.indexOf("--memory");
if (memoryFlag > 0) await memory(Number(process.argv[memoryFlag + 1] ?? 100_000));
