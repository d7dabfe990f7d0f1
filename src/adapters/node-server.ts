import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { getRequestListener, RequestError, type ServerType } from "@hono/node-server";
import type { Logger } from "../core/logger.js";
import { type ConnectionEvents, type ConnectionLimits, limitConnections } from "./node-connections.js";

/** An app as @hono/node-server serves it (`app.fetch`). */
type Fetch = Parameters<typeof getRequestListener>[0];

/** A listener's own error answer (its shape: Kratos's on the gateway, the hooks' own on the hooks). */
export type ErrorAnswer = (
  status: 400 | 408 | 413 | 431 | 500 | 503,
  message: string,
  reason?: string,
) => { contentType: string; body: string };

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

/** What Node answers on its own, by `clientError` code: the listener's shape, not Node's bare status line. */
function clientErrorStatus(code: string | undefined): { status: 400 | 408 | 413 | 431; message: string } {
  switch (code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { status: 408, message: "The request did not arrive in time." };
    case "HPE_HEADER_OVERFLOW":
      return { status: 431, message: "The request's header fields are too large." };
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return { status: 413, message: "The request's chunk extensions are too large." };
    default:
      return { status: 400, message: "The request is not valid HTTP/1.1." };
  }
}

/** A whole answer as bytes for a socket that no request handler owns: framed, and closing. */
function rawAnswer(status: number, answer: { contentType: string; body: string }): string {
  const text = { 400: "Bad Request", 408: "Request Timeout", 413: "Payload Too Large", 431: "Request Header Fields Too Large" }[status];
  return `HTTP/1.1 ${status} ${text}\r\nContent-Type: ${answer.contentType}\r\nContent-Length: ${Buffer.byteLength(answer.body)}\r\nConnection: close\r\n\r\n${answer.body}`;
}

export interface ListenOptions {
  port: number;
  host: string;
  readinessPath?: string;
  drain: DrainState;
  logger: Logger;
  /** The bounds on open connections; unbounded (but for Node's timeouts) when absent. */
  connections?: ConnectionLimits;
  /** Counts shed and refused connections (a metric on Node). */
  connectionEvents?: ConnectionEvents;
  /** How this listener's own errors look; a plain JSON error when absent. */
  errorAnswer?: ErrorAnswer;
}

const PLAIN_ERROR: ErrorAnswer = (status, message) => ({
  contentType: "application/json; charset=utf-8",
  body: JSON.stringify({ error: { code: status, message } }),
});

/**
 * Serves one app on one listener. Timeouts: 10 s for request headers, 30 s to receive a request
 * (Kratos gives up on a hook attempt after 30 s; clients of the gateway send small forms), and
 * idle keep-alive connections are kept 95 s, longer than Kratos's Go client keeps them (90 s,
 * ory/x `httpx/ssrf.go`): closing first races with the next call on that connection, which for
 * Kratos is a failed attempt and a retry. Open connections are bounded (`connections`, see
 * `limitConnections`): over a bound, waiting connections are closed first, and a new connection
 * that finds none is answered 503 with `Connection: close`.
 *
 * What Node refuses before any handler sees it (a malformed request 400, headers over 16 KiB
 * 431, a request not complete in time 408) is answered in the listener's own shape
 * (`errorAnswer`) with `Connection: close`, instead of Node's bare status line.
 *
 * While the process drains, `readinessPath` (the hooks' `/health`, Kratos's `/health/ready` on
 * the gateway) answers 503 at once, and every answer carries `Connection: close`, so clients
 * retire their keep-alive connections after the request instead of racing a close.
 */
export function listen(name: string, fetch: Fetch, options: ListenOptions): Promise<Listener> {
  const { port, host, readinessPath, drain, logger } = options;
  const errorAnswer = options.errorAnswer ?? PLAIN_ERROR;
  const errorResponse = (status: 400 | 500 | 503, message: string, reason?: string) => {
    const answer = errorAnswer(status, message, reason);
    return new Response(answer.body, { status, headers: { "content-type": answer.contentType, connection: "close" } });
  };
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
  // A request URL @hono/node-server cannot build (a backslash in the path, a Host that is not one)
  // is a 400 of ours; an app that throws before it answers (ours catch their errors) a bare 500.
  const app = getRequestListener(served, {
    hostname: host,
    errorHandler: (error) => {
      if (error instanceof RequestError) return errorResponse(400, "The request target or Host is not valid.", error.message);
      logger.error({ listener: name, err: { type: (error as Error).name } }, "unhandled error before an answer");
      return errorResponse(500, "Internal error.");
    },
  });
  // Node checks these timeouts every `connectionsCheckingInterval` (30 s by default), which would
  // let a slowloris client hold a connection up to 40 s past the 10 s headers limit.
  const server = createServer({
    requestTimeout: 30_000,
    headersTimeout: 10_000,
    keepAliveTimeout: 95_000,
    connectionsCheckingInterval: 1_000,
  });
  const limiter =
    options.connections === undefined
      ? undefined
      : limitConnections(server, options.connections, options.connectionEvents ?? { shed: () => {}, refused: () => {} });
  // Pipelined requests are served one after the other, as they came (RFC 9112 §9.3.2: only safe
  // methods may be processed in parallel): Node hands them over at once, and the gateway would
  // otherwise forward them to Kratos side by side, in any order, over separate connections.
  const queues = new WeakMap<Socket, [IncomingMessage, ServerResponse][]>();
  const serveInTurn = (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    response.once("close", () => {
      limiter?.finished(socket);
      const queue = queues.get(socket);
      const next = queue?.shift();
      if (next === undefined) queues.delete(socket);
      else serveInTurn(...next);
    });
    handle(request, response);
  };
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    limiter?.started(request.socket);
    const queue = queues.get(request.socket);
    if (queue !== undefined) queue.push([request, response]);
    else {
      queues.set(request.socket, []);
      serveInTurn(request, response);
    }
  });
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    if (limiter?.isRefused(request.socket)) {
      const answer = errorAnswer(503, "Too many open connections; try again shortly.");
      response.writeHead(503, {
        "content-type": answer.contentType,
        "content-length": Buffer.byteLength(answer.body),
        connection: "close",
        "retry-after": "1",
      });
      response.end(answer.body);
      return;
    }
    // While draining, Node then writes `Connection: close` and ends the connection after this answer.
    if (drain.draining) response.shouldKeepAlive = false;
    void app(request, response);
  };
  server.on("clientError", (error: NodeJS.ErrnoException & { reason?: string }, socket: Socket) => {
    const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || pending?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, message } = clientErrorStatus(error.code);
    // llhttp's reason is a fixed text naming the rule (never the client's bytes).
    const reason = status === 400 && typeof error.reason === "string" ? error.reason : undefined;
    socket.end(rawAnswer(status, errorAnswer(status, message, reason)));
    setTimeout(() => socket.destroy(), 1_000).unref();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      const actual = typeof address === "object" && address !== null ? address.port : port;
      logger.info({ listener: name, host, port: actual }, "listening");
      resolve({ name, server, port: actual });
    });
  });
}

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
