import { spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Running } from "../e2e/processes.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * A server under load as a process of its own, its output going to `log` (as a log collector
 * would take it; ours writes one line per request). Ready when `readyUrl` answers at all.
 */
export async function startBenchServer(
  name: string,
  args: string[],
  env: Record<string, string>,
  log: string,
  readyUrl: string,
): Promise<Running> {
  const out = openSync(log, "w");
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", out, out] });
  const proc: Running = {
    name,
    child,
    output: () => readFileSync(log, "utf8"),
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      return child.exitCode;
    },
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      await (await fetch(readyUrl)).arrayBuffer();
      return proc;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${name} did not start:\n${proc.output()}`);
}
