import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

/** A Node process of ours, its stdout and stderr kept apart as a shell would see them. */
export interface Captured {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** `node <args…>` with only PATH and `env` in its environment. */
export function spawnNode(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Captured {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exit: once(child, "exit").then(([code]) => code as number | null) };
}
