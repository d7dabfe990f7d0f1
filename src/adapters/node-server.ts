import type { Server } from "node:http";
import { type ServerType, serve } from "@hono/node-server";
import type { Logger } from "../core/logger.js";

/** An app as @hono/node-server serves it (`app.fetch`). */
type Fetch = Parameters<typeof serve>[0]["fetch"];

export interface Listener {
  /** `hooks`, `gateway` or `metrics`, as the log lines name it. */
  name: string;
  server: ServerType;
  port: number;
}

/** Whether the process is draining: set once, on the first SIGTERM or SIGINT. */
export interface DrainState {
  draining: boolean;
}

/** What a readiness probe gets while the process drains, on every listener. */
function drainingAnswer(): Response {
  return new Response('{"status":"draining"}', { status: 503, headers: { "content-type": "application/json; charset=utf-8" } });
}

/**
 * Serves one app on one listener. Timeouts: 10 s for request headers, 30 s to receive a request
 * (Kratos gives up on a hook attempt after 30 s; clients of the gateway send small forms), and
 * idle keep-alive connections are kept 95 s, longer than Kratos's Go client keeps them (90 s,
 * ory/x `httpx/ssrf.go`): closing first races with the next call on that connection, which for
 * Kratos is a failed attempt and a retry.
 *
 * While the process drains, `readinessPath` (the hooks' `/health`, Kratos's `/health/ready` on
 * the gateway) answers 503 at once, and every answer carries `Connection: close`, so clients
 * retire their keep-alive connections after the request instead of racing a close.
 */
export function listen(
  name: string,
  fetch: Fetch,
  options: { port: number; host: string; readinessPath?: string; drain: DrainState; logger: Logger },
): Promise<Listener> {
  const { port, host, readinessPath, drain, logger } = options;
  const served: Fetch = (request, env) => {
    if (
      drain.draining &&
      readinessPath !== undefined &&
      (request.method === "GET" || request.method === "HEAD") &&
      new URL(request.url).pathname === readinessPath
    ) {
      return drainingAnswer();
    }
    return fetch(request, env);
  };
  return new Promise((resolve, reject) => {
    // Node checks these timeouts every `connectionsCheckingInterval` (30 s by default), which would
    // let a slowloris client hold a connection up to 40 s past the 10 s headers limit.
    const serverOptions = { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 95_000, connectionsCheckingInterval: 1_000 };
    const server = serve({ fetch: served, port, hostname: host, serverOptions }, (info) => {
      logger.info({ listener: name, host, port: info.port }, "listening");
      resolve({ name, server, port: info.port });
    });
    server.once("error", reject);
    // Before the app's own handler: Node then writes `Connection: close` and ends the connection
    // after this answer.
    (server as Server).prependListener("request", (_request, response) => {
      if (drain.draining) response.shouldKeepAlive = false;
    });
  });
}

export interface ShutdownTimes {
  /** How long every listener goes on serving after the signal (`SHUTDOWN_DRAIN_MS`). */
  drainMs: number;
  /** When whatever is left is cut and the process exits 1 (`SHUTDOWN_TIMEOUT_MS`). */
  timeoutMs: number;
}

/**
 * One process-wide shutdown on SIGTERM or SIGINT, in two steps:
 * 1. drain: readiness answers 503 so that a load balancer or Kubernetes takes the instance out,
 *    while every listener goes on serving (new connections included) for `drainMs`, each answer
 *    with `Connection: close`;
 * 2. close: the listeners stop accepting, requests in flight finish, keep-alive connections
 *    are closed as they go idle, and the process exits 0 once all are done, or 1 at `timeoutMs`.
 *
 * `listeners` is read when the drain ends: one that starts listening during the drain is closed too.
 */
export function stopOnSignals(listeners: readonly Listener[], drain: DrainState, logger: Logger, times: ShutdownTimes): void {
  const close = () => {
    logger.info({ listeners: listeners.map((l) => l.name) }, "drained: closing the listeners, finishing in-flight requests");
    let open = listeners.length;
    if (open === 0) {
      logger.info({}, "stopped");
      process.exit(0);
    }
    for (const { server } of listeners) {
      server.close(() => {
        open -= 1;
        if (open > 0) return;
        logger.info({}, "stopped");
        process.exit(0);
      });
      // close() only drops connections idle at the time of the call; a keep-alive connection whose
      // request finishes later would hold the process until its keep-alive timeout.
      if ("closeIdleConnections" in server) {
        server.closeIdleConnections();
        setInterval(() => server.closeIdleConnections(), 50).unref();
      }
    }
  };
  const shutdown = (signal: string) => {
    if (drain.draining) return;
    drain.draining = true;
    logger.info({ signal, drainMs: times.drainMs, timeoutMs: times.timeoutMs }, "draining: readiness answers 503, still serving");
    setTimeout(close, times.drainMs).unref();
    setTimeout(() => {
      logger.warn({ timeoutMs: times.timeoutMs }, "in-flight requests did not finish in time; closing connections");
      for (const { server } of listeners) if ("closeAllConnections" in server) server.closeAllConnections();
      process.exit(1);
    }, times.timeoutMs).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}
