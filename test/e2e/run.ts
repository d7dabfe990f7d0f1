/**
 * `npm run test:e2e` and `npm run test:e2e:worker`: the end-to-end suite once per tested Kratos
 * release (v1.3.1 and v26.2.0), a line per release with its counts and time, and a check that
 * the newer release ran every test the older one ran.
 *
 *   tsx test/e2e/run.ts [--worker] [--kratos=v1.3.1,v26.2.0] [--results=DIR] [vitest args…]
 *
 * A release whose binary cannot be found or made fails the run, with the reason and the
 * override (`KRATOS_BIN_V26_2_0`); it is never skipped in silence. `KRATOS_BIN` names one binary
 * of any release and runs the suite on it alone.
 */
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type KratosBinary,
  kratosBinaryVersion,
  resolveReportingKratos,
  TESTED_KRATOS_VERSIONS,
  type TestedKratosVersion,
} from "../../src/cli/kratos-binary.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The flows the Worker run repeats (the Worker serves hooks and gateway; the rest is Node-only or CLI). */
const WORKER_FILES = [
  "test/e2e/registration.e2e.test.ts",
  "test/e2e/passwordless.e2e.test.ts",
  "test/e2e/gateway.e2e.test.ts",
  "test/e2e/phone-signup.e2e.test.ts",
];

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTests: number;
  testResults: { name: string; assertionResults: { fullName: string; status: string }[] }[];
}

interface Run {
  label: string;
  version: string;
  seconds: number;
  result?: VitestJson;
  /** Why the run could not start or report. */
  error?: string;
}

function parseArgs(argv: string[]): { worker: boolean; versions: string[]; results: string; rest: string[] } {
  let worker = false;
  let versions: string[] = [...TESTED_KRATOS_VERSIONS];
  let results = "";
  const rest: string[] = [];
  for (const arg of argv) {
    if (arg === "--worker") worker = true;
    else if (arg.startsWith("--kratos=")) versions = arg.slice("--kratos=".length).split(",").filter(Boolean);
    else if (arg.startsWith("--results=")) results = resolve(arg.slice("--results=".length));
    else rest.push(arg);
  }
  for (const version of versions) {
    if (!(TESTED_KRATOS_VERSIONS as readonly string[]).includes(version)) {
      throw new Error(`--kratos=${version}: expected ${TESTED_KRATOS_VERSIONS.join(" and/or ")} (KRATOS_BIN runs any other binary)`);
    }
  }
  // Oldest first, whatever the order given: the newer must run every test the older ran.
  const ordered = TESTED_KRATOS_VERSIONS.filter((version) => versions.includes(version));
  return { worker, versions: ordered, results: results || mkdtempSync(join(tmpdir(), "kratos-hooks-e2e-")), rest };
}

function vitest(binary: string, outputFile: string, worker: boolean, rest: string[]): Promise<number> {
  const args = [
    "vitest",
    "run",
    "--config",
    "vitest.e2e.config.ts",
    ...(worker ? WORKER_FILES : []),
    "--reporter=default",
    "--reporter=json",
    `--outputFile.json=${outputFile}`,
    ...rest,
  ];
  const env = { ...process.env, KRATOS_BIN: binary, ...(worker ? { E2E_HOOKS: "worker" } : {}) };
  const child = spawn("npx", args, { cwd: ROOT, env, stdio: "inherit" });
  return new Promise((done) => child.on("exit", (code, signal) => done(code ?? (signal === null ? 1 : 128))));
}

/** The tests that passed, by file and full name (describe titles included). */
function testNames(result: VitestJson): Set<string> {
  return new Set(
    result.testResults.flatMap((file) =>
      file.assertionResults.filter((test) => test.status === "passed").map((test) => `${relative(ROOT, file.name)} > ${test.fullName}`),
    ),
  );
}

function line(run: Run): string {
  const head = `e2e${run.label} on Kratos ${run.version}:`;
  if (run.result === undefined) return `${head} NOT RUN: ${run.error}`;
  const r = run.result;
  return `${head} ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped in ${run.seconds} s`;
}

async function main(): Promise<number> {
  const { worker, versions, results, rest } = parseArgs(process.argv.slice(2));
  mkdirSync(results, { recursive: true });
  const label = worker ? " (Worker in wrangler dev)" : "";
  // A tested release's binary must say it is that release; KRATOS_BIN's is labelled as it says.
  const chosen: { version: string; find: () => { binary: KratosBinary; reported: string } }[] = process.env.KRATOS_BIN
    ? [
        {
          version: "KRATOS_BIN",
          find: () => {
            const path = process.env.KRATOS_BIN as string;
            return { binary: { path, source: "KRATOS_BIN" }, reported: kratosBinaryVersion(path) ?? "unknown" };
          },
        },
      ]
    : versions.map((version) => ({
        version,
        find: () => ({ binary: resolveReportingKratos(version as TestedKratosVersion), reported: version }),
      }));
  const runs: Run[] = [];
  for (const { version, find } of chosen) {
    const started = Date.now();
    let found: { binary: KratosBinary; reported: string };
    try {
      found = find();
    } catch (error) {
      runs.push({ label, version, seconds: 0, error: (error as Error).message });
      process.stderr.write(`\n${line(runs[runs.length - 1] as Run)}\n`);
      continue;
    }
    const { binary, reported } = found;
    process.stderr.write(`\n== e2e${label} on Kratos ${reported} (${binary.source}: ${binary.path})\n`);
    const outputFile = join(results, `e2e${worker ? "-worker" : ""}-${reported}.json`);
    // A file left by an earlier run must not stand in for this one's.
    rmSync(outputFile, { force: true });
    const code = await vitest(binary.path, outputFile, worker, rest);
    const run: Run = { label, version: reported, seconds: Math.round((Date.now() - started) / 1000) };
    try {
      run.result = JSON.parse(readFileSync(outputFile, "utf8")) as VitestJson;
    } catch {
      run.error = `vitest exited ${code} and wrote no results`;
    }
    if (run.result !== undefined && code !== 0 && run.result.numFailedTests === 0) run.error = `vitest exited ${code}`;
    runs.push(run);
  }

  let ok = runs.length > 0;
  const summary: string[] = [];
  for (const run of runs) {
    summary.push(`${line(run)}${run.result !== undefined && run.error !== undefined ? ` (${run.error})` : ""}`);
    if (run.result === undefined || run.error !== undefined || run.result.numFailedTests > 0 || run.result.numTotalTests === 0) ok = false;
    // A whole run skips nothing: a skipped test would hide a failure (vitest filters in `rest` may skip).
    if (run.result !== undefined && rest.length === 0 && run.result.numPendingTests + run.result.numTodoTests > 0) ok = false;
  }
  // The newer release runs at least every test the older one runs.
  const [older, newer] = runs;
  if (older?.result !== undefined && newer?.result !== undefined) {
    const missing = [...testNames(older.result)].filter((name) => !testNames(newer.result as VitestJson).has(name));
    if (missing.length > 0) {
      ok = false;
      summary.push(`e2e${label}: ${missing.length} tests ran on ${older.version} and not on ${newer.version}:\n  ${missing.join("\n  ")}`);
    } else {
      summary.push(`e2e${label}: ${newer.version} ran every test ${older.version} ran (${testNames(older.result).size})`);
    }
  }
  const text = `${summary.join("\n")}\n`;
  process.stdout.write(`\n${text}`);
  // The lines again at the end of .ci/run, which passes --results.
  appendFileSync(join(results, "e2e-summary.txt"), text);
  return ok ? 0 : 1;
}

process.exitCode = await main();
