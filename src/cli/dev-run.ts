import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CourierSink, formatMessage } from "./courier-sink.js";
import { devBanner } from "./dev-banner.js";
import type { DevKratosConfig } from "./dev-entry.js";
import { followRestarts } from "./dev-entry-run.js";
import { kratosConfigToRun, startKratos } from "./dev-kratos.js";
import { type Child, signalGroup, stopChild, tail, waitReady } from "./dev-processes.js";
import { type DevService, serviceStartMs, startDevService } from "./dev-service.js";
import { DEV_HOST, type DevStack, readinessUrls, serviceEnv } from "./dev-stack.js";
import type { JudgedKratos } from "./kratos-version.js";

// `kratos-hooks dev` once everything it needs is found: the stack started in order, watched until
// a stop is asked for or a part dies, and stopped whole.

export interface DevIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Highlight codes in color (stdout is a terminal). */
  color?: boolean;
  /** Stops the stack as SIGINT does (tests); without it, `dev` listens for SIGINT and SIGTERM. */
  signal?: AbortSignal;
}

/** What dev runs, all checked before anything starts. */
export interface DevPlan {
  stack: DevStack;
  dsn: string;
  service: DevService;
  kratos: { path: string; judged: JudgedKratos };
  config: DevKratosConfig;
}

/** One run: its log folder, the children started so far, the stop asked for, where to say things, the caller's environment. */
interface DevRun {
  dir: string;
  children: Child[];
  stop: AbortSignal;
  io: DevIO;
  env: NodeJS.ProcessEnv;
}

/** A stop asked for by SIGINT, SIGTERM or SIGHUP, or by `io.signal` when given; `release` stops listening. */
function stopRequests(io: DevIO): { signal: AbortSignal; release: () => void } {
  const stopRequested = new AbortController();
  const onSignal = () => stopRequested.abort();
  if (io.signal === undefined) {
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    process.once("SIGHUP", onSignal);
  } else if (io.signal.aborted) stopRequested.abort();
  else io.signal.addEventListener("abort", onSignal, { once: true });
  const release = () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
    io.signal?.removeEventListener("abort", onSignal);
  };
  return { signal: stopRequested.signal, release };
}

/**
 * The service, then Kratos with the kratos.yml to run, each waited for; then the banner. Returns
 * what stops following your entry's reruns, when it is yours.
 */
async function startStack(plan: DevPlan, run: DevRun): Promise<(() => void) | undefined> {
  const { stack, service } = plan;
  const ready = readinessUrls(stack.urls);
  const { child: hooks, events } = startDevService(service, serviceEnv(stack, run.env), run.dir);
  run.children.push(hooks);
  await waitReady(hooks, ready.hooks, serviceStartMs(service), run.stop);

  const config = kratosConfigToRun(plan.config, stack.urls, run.dir, run.io.err);
  const kratos = startKratos(plan.kratos.path, { stack, dsn: plan.dsn, chosen: plan.config, config, dir: run.dir }, run.env);
  run.children.push(kratos);
  await waitReady(kratos, ready.kratos, 60_000, run.stop);
  await waitReady(hooks, ready.gateway, 10_000, run.stop);

  const setup = {
    entry: service.kind === "entry" ? { file: service.entry, tsx: service.tsx } : undefined,
    kratosConfig: { chosen: plan.config, runs: config.runs, changes: config.changes },
    courierElsewhere: config.courierElsewhere,
  };
  run.io.out(devBanner(stack.urls, plan.dsn, run.dir, plan.kratos.judged, setup));
  run.io.out(`kratos-hooks dev: ready\n`);
  return events === undefined ? undefined : followRestarts(hooks, events, stack.urls, run.io, run.stop);
}

/** Waits for a stop or for a child to die; 0 after a stop, 1 (said, with its log's tail) after a death. */
async function untilStopped(run: DevRun): Promise<number> {
  const died = await Promise.race([once(run.stop, "abort").then(() => undefined), ...run.children.map((c) => c.exited.then(() => c))]);
  if (died === undefined) return 0;
  run.io.err(`kratos-hooks dev: ${died.name} stopped unexpectedly; its log (${died.log}):\n${tail(died.log)}\n`);
  return 1;
}

/**
 * Runs the plan: a courier sink that prints every SMS and email, the service, Kratos; until a
 * stop or a death, then stops every child's process group. Returns 0 after a requested stop, 1
 * when something failed or a child died.
 */
export async function runDevStack(plan: DevPlan, io: DevIO, env: NodeJS.ProcessEnv): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "kratos-hooks-dev-"));
  const children: Child[] = [];
  // Should this process die without stopping them (an uncaught error), the children go too.
  const killAll = () => {
    for (const c of children) signalGroup(c.child, "SIGKILL");
  };
  process.once("exit", killAll);
  const stop = stopRequests(io);
  const run: DevRun = { dir, children, stop: stop.signal, io, env };

  let sink: CourierSink | undefined;
  let unfollow: (() => void) | undefined;
  let exitCode = 0;
  try {
    sink = await CourierSink.start({
      port: plan.stack.ports.sink,
      host: DEV_HOST,
      onMessage: (m) => io.out(`${formatMessage(m, io.color)}\n`),
    });
    unfollow = await startStack(plan, run);
    exitCode = await untilStopped(run);
  } catch (error) {
    // After a requested stop, a start that fails is the stop's doing (waitReady is interrupted): nothing to say.
    if (!run.stop.aborted) {
      io.err(`kratos-hooks dev: ${(error as Error).message}\n`);
      exitCode = 1;
    }
  } finally {
    unfollow?.();
    io.err("kratos-hooks dev: stopping…\n");
    await Promise.all(run.children.map((c) => stopChild(c)));
    await sink?.close();
    stop.release();
    process.off("exit", killAll);
    io.err(`kratos-hooks dev: stopped (logs kept in ${run.dir})\n`);
  }
  return exitCode;
}
