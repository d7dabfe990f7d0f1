import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { openSync, readFileSync } from "node:fs";

/** Ports for the servers the tests start (test/support/ports.ts: below the ephemeral range). */
export { freePort } from "../support/ports.js";

/** Every child the suite starts, so that nothing outlives the test process, whatever happens. */
const children = new Set<ChildProcess>();
function killAll(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) signal(child, "SIGKILL");
}
process.once("exit", killAll);
// A runner that stops this process with a signal skips "exit" handlers; the children run in
// process groups of their own, so nothing else would stop them.
for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(name, () => {
    killAll();
    process.exit(128 + (name === "SIGINT" ? 2 : name === "SIGTERM" ? 15 : 1));
  });
}

/** Signals the child's whole process group (wrangler starts workerd), or the child alone. */
function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, name);
  } catch {
    child.kill(name);
  }
}

/** A free loopback port: bind to port 0, read the port, close. */
export interface Running {
  readonly name: string;
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code (null if killed). */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Starts `command` in a process group of its own, so that stopping it stops what it started. Its
 * output is kept in memory, or written to `logFile` (a benchmark's server must not make the
 * measuring process read every log line).
 */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: { cwd?: string; env: NodeJS.ProcessEnv; logFile?: string },
): Running {
  const { logFile } = options;
  const stdio = logFile === undefined ? ("pipe" as const) : openSync(logFile, "w");
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", stdio, stdio], detached: true });
  children.add(child);
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = once(child, "exit").then(([code]) => {
    children.delete(child);
    return code as number | null;
  });
  return {
    name,
    child,
    output: () => (logFile === undefined ? output : readFileSync(logFile, "utf8")),
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      signal(child, "SIGTERM");
      const timer = setTimeout(() => signal(child, "SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Polls `url` until it answers 200, or fails with the process's output so the cause is visible. */
export async function waitUntilReady(proc: Running, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) break;
    try {
      const res = await fetch(url, { redirect: "follow" });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const tail = proc.output().split("\n").slice(-40).join("\n");
  throw new Error(`${proc.name} did not become ready at ${url} (exit code ${proc.child.exitCode}). Last output:\n${tail}`);
}
