import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

// The processes `kratos-hooks dev` starts (Kratos, the hooks service or your entry): each in a
// process group of its own with its output in a log file, stopped group and all.

/** A process `dev` started: its name for messages, its log file, and when it exits. */
export interface Child {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
  /** Why the service stopped while its process lives on (tsx watch outlives the entry), if it did. */
  stopped?: () => string | undefined;
  /** Said when it is not ready in time. */
  hint?: string;
}

/** Starts a child in a process group of its own (so stopping it stops what it started), output to a log file. */
export function startChild(
  name: string,
  command: string,
  args: string[],
  options: { cwd?: string; env: NodeJS.ProcessEnv; log: string },
): Child {
  const fd = openSync(options.log, "a");
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", fd, fd], detached: true });
  closeSync(fd);
  const exited = new Promise<number | null>((done) => {
    child.once("exit", (code) => done(code));
    child.once("error", () => done(-1));
  });
  return { name, child, log: options.log, exited };
}

export function signalGroup(child: ChildProcess, name: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, name);
  } catch {
    // No group to signal (ESRCH: it is gone; EPERM: not ours): signal the child itself.
    child.kill(name);
  }
}

/** SIGTERM to the child's group, SIGKILL after `graceMs`. */
export async function stopChild(c: Child, graceMs = 5000): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  signalGroup(c.child, "SIGTERM");
  const timer = setTimeout(() => signalGroup(c.child, "SIGKILL"), graceMs);
  await c.exited;
  clearTimeout(timer);
  // Whatever the child started in its group goes with it.
  if (c.child.pid !== undefined) {
    try {
      process.kill(-c.child.pid, "SIGKILL");
    } catch {
      // ESRCH: the group is gone with the child, as it should be.
    }
  }
}

/** The last `lines` lines of a log file, or nothing when it cannot be read. */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    // A log not written yet, or removed: a message then goes without its tail.
    return "";
  }
}

/** Polls `url` until it answers 2xx; fails early when the child exits. */
export async function waitReady(c: Child, url: string, timeoutMs: number, stop?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void c.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (stop?.aborted) throw new Error("interrupted during start");
    if (exited) throw new Error(`${c.name} exited during start; its log (${c.log}):\n${tail(c.log)}`);
    const stopped = c.stopped?.();
    if (stopped !== undefined) throw new Error(`${c.name} ${stopped}; its log (${c.log}):\n${tail(c.log)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // Refused or timed out: not listening yet; the exit and the deadline above end the wait.
    }
    await new Promise((done) => setTimeout(done, 150));
  }
  const hint = c.hint === undefined ? "" : ` (${c.hint})`;
  throw new Error(`${c.name} was not ready at ${url} within ${timeoutMs / 1000} s${hint}; its log (${c.log}):\n${tail(c.log)}`);
}
