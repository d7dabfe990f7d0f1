import type { ChildProcess } from "node:child_process";
import { afterEach } from "vitest";
import { TEST_KEY } from "./helpers.js";
import { type Captured, spawnNode } from "./spawn.js";

const ENTRY = new URL("../../dist/src/adapters/node.js", import.meta.url).pathname;

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

/** The compiled server (what `npm start` runs) as a real process; killed after each test, unless `forFile` (the caller kills it). */
export function run(env: Record<string, string>, forFile = false): Captured {
  const proc = spawnNode([ENTRY], { env });
  if (!forFile) started.push(proc.child);
  return proc;
}

export interface Running {
  child: ChildProcess;
  /** The hooks listener's port. */
  port: number;
  /** The gateway listener's port, when GATEWAY_KRATOS_URL is set. */
  gatewayPort: number;
  /** The metrics listener's port, when METRICS_PORT is set. */
  metricsPort: number;
  lines: Record<string, unknown>[];
  exit: Promise<number | null>;
}

/**
 * Starts the compiled server on free ports (PORT=0, and GATEWAY_PORT=0 unless given), without a
 * drain unless `SHUTDOWN_DRAIN_MS` is given (`forFile`: it outlives each test), and waits
 * for a "listening" line from each listener it should open.
 */
export async function start(env: Record<string, string> = {}, forFile = false): Promise<Running> {
  const gateway = env.GATEWAY_KRATOS_URL !== undefined;
  const metrics = env.METRICS_PORT !== undefined;
  // No drain unless a test asks for one: a SIGTERM stops at once.
  const proc = run(
    {
      PORT: "0",
      HOST: "127.0.0.1",
      HOOKS_API_KEYS: TEST_KEY,
      SHUTDOWN_DRAIN_MS: "0",
      ...(gateway && { GATEWAY_PORT: "0" }),
      ...env,
    },
    forFile,
  );
  const parsed = () =>
    proc
      .stdout()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const portOf = (name: string) => Number(parsed().find((l) => l.msg === "listening" && l.listener === name)?.port ?? Number.NaN);
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (
      !Number.isNaN(portOf("hooks")) &&
      (!gateway || !Number.isNaN(portOf("gateway"))) &&
      (!metrics || !Number.isNaN(portOf("metrics")))
    ) {
      return {
        child: proc.child,
        port: portOf("hooks"),
        gatewayPort: portOf("gateway"),
        metricsPort: portOf("metrics"),
        exit: proc.exit,
        get lines() {
          return parsed();
        },
      };
    }
    if (proc.child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start: ${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
