import { type ServerType, serve } from "@hono/node-server";
import type { Logger } from "../core/logger.js";

/** An app as @hono/node-server serves it (`app.fetch`). */
type Fetch = Parameters<typeof serve>[0]["fetch"];

export interface Listener {
  /** `hooks` or `gateway`, as the log lines name it. */
  name: string;
  server: ServerType;
  port: number;
}

/**
 * Serves one app on one listener. Timeouts: 10 s for request headers, 30 s to receive a request
 * (Kratos gives up on a hook attempt after 30 s; clients of the gateway send small forms), and
 * idle keep-alive connections are kept 95 s, longer than Kratos's Go client keeps them (90 s,
 * ory/x `httpx/ssrf.go`): closing first races with the next call on that connection, which for
 * Kratos is a failed attempt and a retry.
 */
export function listen(name: string, fetch: Fetch, port: number, host: string, logger: Logger): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname: host }, (info) => {
      logger.info({ listener: name, host, port: info.port }, "listening");
      resolve({ name, server, port: info.port });
    });
    server.once("error", reject);
    if ("requestTimeout" in server) {
      server.requestTimeout = 30_000;
      server.headersTimeout = 10_000;
      server.keepAliveTimeout = 95_000;
    }
  });
}

/**
 * One process-wide shutdown on SIGTERM or SIGINT: every listener stops accepting at once, the
 * requests in flight on any of them finish, idle keep-alive connections are closed as they go
 * idle, and the process exits once, with 0 when all have drained, or 1 after `graceMs`.
 */
export function stopOnSignals(listeners: readonly Listener[], logger: Logger, graceMs: number): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, listeners: listeners.map((l) => l.name) }, "shutting down: finishing in-flight requests");
    let open = listeners.length;
    for (const { server } of listeners) {
      server.close(() => {
        open -= 1;
        if (open > 0) return;
        logger.info({}, "stopped");
        process.exit(0);
      });
      // close() only drops connections idle at the time of the call; a keep-alive connection whose
      // request finishes later would hold the process until its keep-alive timeout.
      if ("closeIdleConnections" in server) setInterval(() => server.closeIdleConnections(), 50).unref();
    }
    setTimeout(() => {
      logger.warn({ graceMs }, "in-flight requests did not finish in time; closing connections");
      for (const { server } of listeners) if ("closeAllConnections" in server) server.closeAllConnections();
      process.exit(1);
    }, graceMs).unref();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}
