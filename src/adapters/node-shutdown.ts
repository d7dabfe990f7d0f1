import type { Logger } from "../core/logger.js";
import type { DrainState, Listener } from "./node-server.js";

export interface ShutdownTimes {
  /** How long every listener goes on serving after the signal (`SHUTDOWN_DRAIN_MS`). */
  drainMs: number;
  /** When whatever is left is cut (`SHUTDOWN_TIMEOUT_MS`); after a signal, the process then exits 1. */
  timeoutMs: number;
}

/**
 * Stops the listeners: they stop accepting, requests in flight finish, keep-alive connections are
 * closed as they go idle. Resolves true once every one is closed, or false at `timeoutMs`, when
 * whatever is left has been cut.
 */
export function closeListeners(listeners: readonly Listener[], logger: Logger, timeoutMs: number): Promise<boolean> {
  logger.info({ listeners: listeners.map((l) => l.name) }, "closing the listeners, finishing in-flight requests");
  return new Promise((resolve) => {
    let open = listeners.length;
    const timers: NodeJS.Timeout[] = [];
    const done = (clean: boolean) => {
      for (const timer of timers) clearTimeout(timer);
      resolve(clean);
    };
    if (open === 0) {
      done(true);
      return;
    }
    timers.push(
      setTimeout(() => {
        logger.warn({ timeoutMs }, "in-flight requests did not finish in time; closing connections");
        for (const { server } of listeners) if ("closeAllConnections" in server) server.closeAllConnections();
        done(false);
      }, timeoutMs).unref(),
    );
    for (const { server } of listeners) {
      server.close(() => {
        open -= 1;
        if (open === 0) done(true);
      });
      // close() only drops connections idle at the time of the call; a keep-alive connection whose
      // request finishes later would hold the listener until its keep-alive timeout.
      if ("closeIdleConnections" in server) {
        server.closeIdleConnections();
        const idle = setInterval(() => server.closeIdleConnections(), 50).unref();
        server.once("close", () => clearInterval(idle));
      }
    }
  });
}

/**
 * The drain, in two steps, for a signal or `close()`:
 * 1. drain: readiness answers 503 so that a load balancer or Kubernetes takes the instance out,
 *    while every listener goes on serving (new connections included) for `drainMs`, each answer
 *    with `Connection: close`;
 * 2. close: `closeListeners`, within what is left of `timeoutMs`.
 *
 * `listeners` is read when the drain ends: one that starts listening during the drain is closed too.
 * Resolves true when everything closed in time.
 */
export async function drainAndClose(
  listeners: readonly Listener[],
  drain: DrainState,
  logger: Logger,
  times: ShutdownTimes,
  reason: string,
): Promise<boolean> {
  drain.draining = true;
  const started = Date.now();
  logger.info({ reason, drainMs: times.drainMs, timeoutMs: times.timeoutMs }, "draining: readiness answers 503, still serving");
  if (times.drainMs > 0) await new Promise((resolve) => setTimeout(resolve, times.drainMs));
  const clean = await closeListeners(listeners, logger, Math.max(0, times.timeoutMs - (Date.now() - started)));
  logger.info({ clean }, "stopped");
  return clean;
}

/**
 * One process-wide shutdown on SIGTERM or SIGINT: `stop(signal)` (the drain, then whatever else
 * the service holds), then the process exits 0, or 1 when the listeners did not close in time.
 * Returns the function that removes the handlers.
 */
export function stopOnSignals(stop: (signal: string) => Promise<boolean>): () => void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    void stop(signal).then(
      (clean) => process.exit(clean ? 0 : 1),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return () => {
    process.off("SIGTERM", handler);
    process.off("SIGINT", handler);
  };
}
