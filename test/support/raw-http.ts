// HTTP/1.1 on raw sockets, for the gateway's conformance suite (test/gateway/conformance.ts): a
// client that writes exactly the bytes a case gives and reads the answers strictly, and a
// recording upstream that parses what the gateway sends the way a strict server does (RFC 9112
// §6.3, which is also Go's net/http, the server Kratos runs) and notes every departure from it.
import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";

/** One header line as it was on the wire: the name as written (case kept), the value trimmed of OWS. */
export type HeaderLine = [name: string, value: string];

/** A message head: its first line and its header lines, in order. */
export interface Head {
  startLine: string;
  headers: HeaderLine[];
}

/** Every value of a header, case-insensitively, in order. */
export function headerValues(head: Head, name: string): string[] {
  const lower = name.toLowerCase();
  return head.headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Reads a head ending in CRLF CRLF at `from`; undefined until it is complete. Notes what a strict reader refuses. */
function readHead(bytes: Buffer, from: number, violations: string[]): { head: Head; end: number } | undefined {
  const end = bytes.indexOf("\r\n\r\n", from, "latin1");
  if (end < 0) return undefined;
  const text = bytes.subarray(from, end).toString("latin1");
  if (/\r(?!\n)|(?<!\r)\n/.test(`${text}\r\n`)) violations.push("a line not ended by CRLF");
  const [startLine = "", ...lines] = text.split("\r\n");
  const headers: HeaderLine[] = [];
  for (const line of lines) {
    if (line.startsWith(" ") || line.startsWith("\t")) {
      violations.push("obs-fold");
      continue;
    }
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    if (!TOKEN.test(name)) violations.push(`a header name that is not a token: ${JSON.stringify(name)}`);
    const value = colon < 0 ? "" : line.slice(colon + 1).trim();
    if (/[\0\r\n]/.test(value)) violations.push(`a control character in ${name}`);
    headers.push([name, value]);
  }
  return { head: { startLine, headers }, end: end + 4 };
}

/** A chunked body at `from` (RFC 9112 §7.1); undefined until complete. Chunk extensions and trailers are read and noted. */
function readChunked(bytes: Buffer, from: number, violations: string[]): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = bytes.indexOf("\r\n", at, "latin1");
    if (lineEnd < 0) return undefined;
    const line = bytes.subarray(at, lineEnd).toString("latin1");
    const [size = "", ...extensions] = line.split(";");
    if (extensions.length > 0) violations.push("a chunk extension");
    if (!/^[0-9A-Fa-f]{1,15}$/.test(size)) {
      violations.push(`a malformed chunk size ${JSON.stringify(line)}`);
      return { body: Buffer.concat(parts), end: bytes.length };
    }
    const length = Number.parseInt(size, 16);
    at = lineEnd + 2;
    if (length === 0) {
      // Trailer section, then CRLF.
      for (;;) {
        const trailerEnd = bytes.indexOf("\r\n", at, "latin1");
        if (trailerEnd < 0) return undefined;
        if (trailerEnd === at) return { body: Buffer.concat(parts), end: at + 2 };
        violations.push("a trailer field");
        at = trailerEnd + 2;
      }
    }
    if (bytes.length < at + length + 2) return undefined;
    parts.push(bytes.subarray(at, at + length));
    if (bytes.toString("latin1", at + length, at + length + 2) !== "\r\n") violations.push("a chunk not followed by CRLF");
    at += length + 2;
  }
}

/** A request as a strict server reads it. */
export interface ParsedRequest extends Head {
  method: string;
  target: string;
  version: string;
  body: Buffer;
  /** How its body was framed: `content-length`, `chunked` or `none`. */
  framing: "content-length" | "chunked" | "none";
  /** What a strict reader (and Go's net/http, unless said otherwise) would refuse or notice. */
  violations: string[];
}

/**
 * Parses requests off a byte stream, the way RFC 9112 §6.3 frames them: a Transfer-Encoding of
 * exactly `chunked` (one field, never beside a Content-Length) is chunked; else one Content-Length
 * of digits is that many bytes; else there is no body, and the next byte starts the next request.
 * Returns the complete requests and the offset where an incomplete one starts.
 */
export function parseRequests(bytes: Buffer): { requests: ParsedRequest[]; rest: number } {
  const requests: ParsedRequest[] = [];
  let at = 0;
  while (at < bytes.length) {
    const violations: string[] = [];
    const read = readHead(bytes, at, violations);
    if (read === undefined) break;
    const { head } = read;
    const [method = "", target = "", version = "", ...extra] = head.startLine.split(" ");
    if (extra.length > 0 || !TOKEN.test(method) || !/^HTTP\/1\.[01]$/.test(version)) {
      violations.push(`a malformed request line ${JSON.stringify(head.startLine)}`);
    }
    const te = headerValues(head, "transfer-encoding");
    const cl = headerValues(head, "content-length");
    let framing: ParsedRequest["framing"] = "none";
    let body: Buffer = Buffer.alloc(0);
    let end = read.end;
    if (te.length > 0) {
      if (te.length > 1 || te[0]?.toLowerCase() !== "chunked") violations.push(`Transfer-Encoding ${JSON.stringify(te)}`);
      if (cl.length > 0) violations.push("Content-Length beside Transfer-Encoding");
      const chunked = readChunked(bytes, end, violations);
      if (chunked === undefined) break;
      framing = "chunked";
      body = chunked.body;
      end = chunked.end;
    } else if (cl.length > 0) {
      if (cl.length > 1) violations.push(`${cl.length} Content-Length fields`);
      if (!/^\d+$/.test(cl[0] ?? "")) violations.push(`Content-Length ${JSON.stringify(cl[0])}`);
      const length = Number(cl[0]);
      if (bytes.length < end + length) break;
      framing = "content-length";
      body = bytes.subarray(end, end + length);
      end += length;
    }
    if (headerValues(head, "host").length !== 1) violations.push("not exactly one Host");
    requests.push({ ...head, method, target, version, body, framing, violations });
    at = end;
  }
  return { requests, rest: at };
}

/** An answer as a strict client reads it. */
export interface ParsedResponse extends Head {
  status: number;
  body: Buffer;
  framing: "content-length" | "chunked" | "close" | "none";
  violations: string[];
}

/**
 * Parses the answers to `methods` (one per request sent, in order) off a byte stream (RFC 9112
 * §6.3): HEAD, 1xx, 204 and 304 have no body; else chunked, else Content-Length, else the body
 * runs to the close (`closed` says whether the stream ended). Informational (1xx) answers are
 * skipped, as a client skips them.
 */
export function parseResponses(bytes: Buffer, methods: readonly string[], closed: boolean): { responses: ParsedResponse[]; rest: number } {
  const responses: ParsedResponse[] = [];
  let at = 0;
  while (at < bytes.length && responses.length < methods.length) {
    const violations: string[] = [];
    const read = readHead(bytes, at, violations);
    if (read === undefined) break;
    const { head } = read;
    const status = Number(/^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(head.startLine)?.[1] ?? Number.NaN);
    if (Number.isNaN(status)) violations.push(`a malformed status line ${JSON.stringify(head.startLine)}`);
    if (status >= 100 && status < 200) {
      at = read.end;
      continue;
    }
    const te = headerValues(head, "transfer-encoding");
    const cl = headerValues(head, "content-length");
    if (te.length > 0 && cl.length > 0) violations.push("Content-Length beside Transfer-Encoding");
    if (cl.length > 1) violations.push(`${cl.length} Content-Length fields`);
    const method = methods[responses.length];
    let framing: ParsedResponse["framing"] = "none";
    let body: Buffer = Buffer.alloc(0);
    let end = read.end;
    if (method === "HEAD" || status === 204 || status === 304) {
      if (status === 204 && (te.length > 0 || cl.length > 0)) violations.push("framing on a 204");
    } else if (te.length > 0) {
      if (te.at(-1)?.toLowerCase() !== "chunked") violations.push(`Transfer-Encoding ${JSON.stringify(te)}`);
      const chunked = readChunked(bytes, end, violations);
      if (chunked === undefined) break;
      framing = "chunked";
      body = chunked.body;
      end = chunked.end;
    } else if (cl.length > 0) {
      const length = Number(cl[0]);
      if (bytes.length < end + length) break;
      framing = "content-length";
      body = bytes.subarray(end, end + length);
      end += length;
    } else {
      if (!closed) break;
      framing = "close";
      body = bytes.subarray(end);
      end = bytes.length;
    }
    responses.push({ ...head, status, body, framing, violations });
    at = end;
  }
  return { responses, rest: at };
}

/** What a raw exchange saw: the answers in order, anything left over, and whether the peer closed. */
export interface Exchange {
  responses: ParsedResponse[];
  /** Bytes after the last complete answer (a well-behaved peer leaves none). */
  leftover: Buffer;
  closed: boolean;
}

/**
 * Connects, writes `parts` (each written as its own segment, `pauseMs` apart), and reads until
 * `methods.length` answers are complete and the connection is idle for `settleMs`, or the peer
 * closes, or `timeoutMs` passes.
 */
export async function exchange(
  port: number,
  parts: readonly (string | Buffer)[],
  methods: readonly string[],
  options: { pauseMs?: number; settleMs?: number; timeoutMs?: number; host?: string; localAddress?: string } = {},
): Promise<Exchange> {
  const { pauseMs = 20, settleMs = 100, timeoutMs = 5_000 } = options;
  const socket = connect({ port, host: options.host ?? "127.0.0.1", ...(options.localAddress && { localAddress: options.localAddress }) });
  socket.on("error", () => undefined);
  await once(socket, "connect");
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  void ended.then(() => {
    closed = true;
  });
  for (const [i, part] of parts.entries()) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    if (!socket.destroyed) socket.write(part);
  }
  const deadline = Date.now() + timeoutMs;
  let lastSize = -1;
  let stableSince = Date.now();
  while (Date.now() < deadline && !closed) {
    const bytes = Buffer.concat(chunks);
    if (bytes.length !== lastSize) {
      lastSize = bytes.length;
      stableSince = Date.now();
    }
    if (parseResponses(bytes, methods, false).responses.length >= methods.length && Date.now() - stableSince >= settleMs) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  socket.destroy();
  const bytes = Buffer.concat(chunks);
  const { responses, rest } = parseResponses(bytes, methods, closed);
  return { responses, leftover: bytes.subarray(rest), closed };
}

/** One connection the recorder accepted, with what it read on it. */
export interface RecordedConnection {
  id: number;
  requests: ParsedRequest[];
  /** Bytes left when the connection closed that were not a complete request: a strict server's garbage. */
  leftover: Buffer;
  closed: boolean;
}

/** What the recorder answers to a request: status, header lines, and a body framed as told. */
export interface RecordedAnswer {
  status: number;
  headers?: HeaderLine[];
  body?: string;
  /** `content-length` (the default), `chunked`, or `close` (no framing; the body runs to the close). */
  framing?: "content-length" | "chunked" | "close";
}

export interface Recorder {
  port: number;
  url: string;
  connections: RecordedConnection[];
  /** Every request, in the order the recorder parsed them, with its connection's id. */
  requests(): (ParsedRequest & { connection: number })[];
  answer: (request: ParsedRequest) => RecordedAnswer;
  reset(): void;
  close(): Promise<void>;
}

function writeAnswer(socket: Socket, request: ParsedRequest, answer: RecordedAnswer): void {
  const body = Buffer.from(answer.body ?? "");
  const framing = answer.framing ?? "content-length";
  const lines = [`HTTP/1.1 ${answer.status} X`, ...(answer.headers ?? []).map(([n, v]) => `${n}: ${v}`)];
  const bodyless = request.method === "HEAD" || answer.status === 204 || answer.status === 304;
  if (framing === "content-length") lines.push(`Content-Length: ${body.length}`);
  if (framing === "chunked") lines.push("Transfer-Encoding: chunked");
  if (framing === "close") lines.push("Connection: close");
  socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  if (!bodyless) {
    if (framing === "chunked")
      socket.write(
        body.length > 0 ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]) : "0\r\n\r\n",
      );
    else socket.write(body);
  }
  if (framing === "close") socket.end();
}

/** By default: 200, and a body naming the request (`x-case` and its method, target and body), so each client can tell its own answer. */
export function echoAnswer(request: ParsedRequest): RecordedAnswer {
  const id = headerValues(request, "x-case")[0] ?? "";
  return {
    status: 200,
    headers: [["Content-Type", "application/json"]],
    body: JSON.stringify({ case: id, method: request.method, target: request.target, body: request.body.toString("latin1") }),
  };
}

/**
 * A recording upstream on a raw socket: it parses each connection's bytes with `parseRequests`
 * (strictly, as RFC 9112 and Go's net/http frame them), answers each request in order, and keeps
 * everything for the assertions. A request it cannot frame leaves its bytes as `leftover`.
 */
export async function startRecorder(): Promise<Recorder> {
  const connections: RecordedConnection[] = [];
  const sockets = new Set<Socket>();
  let nextId = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const connection: RecordedConnection = { id: nextId++, requests: [], leftover: Buffer.alloc(0), closed: false };
    connections.push(connection);
    let buffer: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const { requests, rest } = parseRequests(buffer);
      buffer = buffer.subarray(rest);
      for (const request of requests) {
        connection.requests.push(request);
        writeAnswer(socket, request, recorder.answer(request));
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      connection.leftover = buffer;
      connection.closed = true;
      sockets.delete(socket);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no recorder address");
  const recorder: Recorder = {
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    connections,
    requests: () => connections.flatMap((c) => c.requests.map((r) => ({ ...r, connection: c.id }))),
    answer: echoAnswer,
    /** Forgets what was recorded (connections still open stay, with nothing recorded), and answers with `echoAnswer` again. */
    reset() {
      const open = connections.filter((c) => !c.closed);
      connections.length = 0;
      for (const c of open) {
        c.requests = [];
        connections.push(c);
      }
      recorder.answer = echoAnswer;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
  return recorder;
}
