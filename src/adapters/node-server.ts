import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { getRequestListener, RequestError, type ServerType } from "@hono/node-server";
import { reasonPhrase, STATUS } from "../core/http-status.js";
import type { Logger } from "../core/logger.js";
import { type ConnectionEvents, type ConnectionLimiter, type ConnectionLimits, limitConnections } from "./node-connections.js";

/** An app as @hono/node-server serves it (`app.fetch`). */
type Fetch = Parameters<typeof getRequestListener>[0];

/** What Node refuses before any handler sees the request. */
type ClientErrorStatus =
  | typeof STATUS.badRequest
  | typeof STATUS.requestTimeout
  | typeof STATUS.payloadTooLarge
  | typeof STATUS.headerFieldsTooLarge;

/** A listener's own error answer (its shape: Kratos's on the gateway, the hooks' own on the hooks). */
export type ErrorAnswer = (
  status: ClientErrorStatus | typeof STATUS.internalError | typeof STATUS.unavailable,
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
  return new Response('{"status":"draining"}', {
    status: STATUS.unavailable,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

/** What Node answers on its own, by `clientError` code: the listener's shape, not Node's bare status line. */
function clientErrorStatus(code: string | undefined): { status: ClientErrorStatus; message: string } {
  switch (code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return { status: STATUS.requestTimeout, message: "The request did not arrive in time." };
    case "HPE_HEADER_OVERFLOW":
      return { status: STATUS.headerFieldsTooLarge, message: "The request's header fields are too large." };
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return { status: STATUS.payloadTooLarge, message: "The request's chunk extensions are too large." };
    default:
      return { status: STATUS.badRequest, message: "The request is not valid HTTP/1.1." };
  }
}

/** A whole answer as bytes for a socket that no request handler owns: framed, and closing. */
function rawAnswer(status: ClientErrorStatus, answer: { contentType: string; body: string }): string {
  const text = reasonPhrase(status);
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

/** `fetch`, but for the readiness path while the process drains: that answers 503 at once. */
function withDrainingReadiness(fetch: Fetch, readinessPath: string | undefined, drain: DrainState): Fetch {
  return (request, env) => {
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
}

/**
 * The app as a Node request listener. A request URL @hono/node-server cannot build (a backslash
 * in the path, a Host that is not one) is a 400 of ours; an app that throws before it answers
 * (ours catch their errors) a bare 500.
 */
function requestListener(name: string, fetch: Fetch, host: string, logger: Logger, errorAnswer: ErrorAnswer) {
  const errorResponse = (status: typeof STATUS.badRequest | typeof STATUS.internalError, message: string, reason?: string) => {
    const answer = errorAnswer(status, message, reason);
    return new Response(answer.body, { status, headers: { "content-type": answer.contentType, connection: "close" } });
  };
  return getRequestListener(fetch, {
    hostname: host,
    errorHandler: (error) => {
      if (error instanceof RequestError) return errorResponse(STATUS.badRequest, "The request target or Host is not valid.", error.message);
      logger.error({ listener: name, err: { type: (error as Error).name } }, "unhandled error before an answer");
      return errorResponse(STATUS.internalError, "Internal error.");
    },
  });
}

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Serves pipelined requests one after the other, as they came (RFC 9112 §9.3.2: only safe
 * methods may be processed in parallel): Node hands them over at once, and the gateway would
 * otherwise forward them to Kratos side by side, in any order, over separate connections.
 */
function serveInTurn(server: Server, limiter: ConnectionLimiter | undefined, handle: Handler): void {
  const queues = new WeakMap<Socket, [IncomingMessage, ServerResponse][]>();
  const next: Handler = (request, response) => {
    const socket = request.socket;
    response.once("close", () => {
      limiter?.finished(socket);
      const queue = queues.get(socket);
      const waiting = queue?.shift();
      if (waiting === undefined) queues.delete(socket);
      else next(...waiting);
    });
    handle(request, response);
  };
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    limiter?.started(request.socket);
    const queue = queues.get(request.socket);
    if (queue !== undefined) queue.push([request, response]);
    else {
      queues.set(request.socket, []);
      next(request, response);
    }
  });
}

/** The answer to a request on a connection the limiter refused: 503, `Retry-After: 1`, and closing. */
function refuseConnection(response: ServerResponse, errorAnswer: ErrorAnswer): void {
  const answer = errorAnswer(STATUS.unavailable, "Too many open connections; try again shortly.");
  response.writeHead(STATUS.unavailable, {
    "content-type": answer.contentType,
    "content-length": Buffer.byteLength(answer.body),
    connection: "close",
    "retry-after": "1",
  });
  response.end(answer.body);
}

/** What Node refuses before any handler sees it, answered in the listener's own shape with `Connection: close`. */
function answerClientErrors(server: Server, errorAnswer: ErrorAnswer): void {
  server.on("clientError", (error: NodeJS.ErrnoException & { reason?: string }, socket: Socket) => {
    const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === "ECONNRESET" || !socket.writable || pending?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, message } = clientErrorStatus(error.code);
    // llhttp's reason is a fixed text naming the rule (never the client's bytes).
    const reason = status === STATUS.badRequest && typeof error.reason === "string" ? error.reason : undefined;
    socket.end(rawAnswer(status, errorAnswer(status, message, reason)));
    setTimeout(() => socket.destroy(), 1_000).unref();
  });
}

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
  const app = requestListener(name, withDrainingReadiness(fetch, readinessPath, drain), host, logger, errorAnswer);
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
  serveInTurn(server, limiter, (request, response) => {
    if (limiter?.isRefused(request.socket)) return refuseConnection(response, errorAnswer);
    // While draining, Node then writes `Connection: close` and ends the connection after this answer.
    if (drain.draining) response.shouldKeepAlive = false;
    void app(request, response);
  });
  answerClientErrors(server, errorAnswer);
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
