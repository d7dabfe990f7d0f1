import { createHmac } from "node:crypto";
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { Readable } from "node:stream";
import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import { STATUS } from "../core/http-status.js";
import type { ConnInfo } from "../gateway/conn-info.js";
import { toClientHeaders } from "../gateway/headers.js";
import type { Refusal } from "../gateway/refusals.js";
import { type GatewayTransport, UpstreamError, type UpstreamRequest } from "../gateway/transport.js";

/** The shield's HMAC on Node: node:crypto's, synchronous (Web Crypto's goes through the thread pool). */
export function nodeHmac(secret: string, text: string): Uint8Array {
  return createHmac("sha256", secret).update(text).digest();
}

/** Answers up to this size are read whole and handed over in one piece (the common case: Kratos's JSON and redirects). */
const BUFFERED_BYTES = 64 * 1024;

function bindings(c: Context): HttpBindings {
  return c.env as HttpBindings;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`: the form Kratos's client-IP parsing and a log reader expect. */
function plainAddress(address: string | undefined): string | undefined {
  return address?.startsWith("::ffff:") ? address.slice(7) : address;
}

/**
 * Node's answer for a Response: @hono/node-server writes a body of bytes with a plain header
 * object straight to the socket (no web-stream or Headers round trip). Header values may be
 * arrays (Set-Cookie), which `writeHead` takes as they are.
 */
/** The buffered answers' parts, by the Response handed over (`inspect`). */
const received = new WeakMap<Response, { headers: Record<string, string | string[]>; body: Uint8Array | null }>();

function toResponse(status: number, headers: Record<string, string | string[]>, body: Uint8Array | ReadableStream | null): Response {
  // A 204 has no body and so no framing (RFC 9110 §8.6): a Content-Length from upstream is dropped.
  if (status === STATUS.noContent) delete headers["content-length"];
  // A streamed answer's headers, if read as a Headers object (the shield reads an answer it cannot
  // `inspect`), must keep several values of one header (Set-Cookie) apart: [name, value] pairs. A
  // buffered answer keeps the record, which @hono/node-server writes as it is (the fast path).
  let init: Record<string, string> | [string, string][] = headers as unknown as Record<string, string>;
  for (const name in headers) {
    if (!(body instanceof ReadableStream) || !Array.isArray(headers[name])) continue;
    init = Object.entries(headers).flatMap(([key, value]) =>
      Array.isArray(value) ? value.map((v): [string, string] => [key, v]) : [[key, value] as [string, string]],
    );
    break;
  }
  const response = new Response(body, { status, headers: init });
  if (!(body instanceof ReadableStream)) received.set(response, { headers, body });
  return response;
}

/**
 * How the client framed its body (RFC 9112 §6.3), as Node's parser read it: chunked, a length,
 * or no body. Node has refused the ambiguous framings already (a Content-Length beside a
 * Transfer-Encoding, two Content-Lengths, a value that is not digits, a Transfer-Encoding that
 * does not end in chunked), and `framingRefusal` the rest, so one of these holds.
 */
function framingOf(incoming: IncomingMessage): "chunked" | number {
  if (incoming.headers["transfer-encoding"] !== undefined) return "chunked";
  return Number(incoming.headers["content-length"] ?? 0);
}

/**
 * What Node's parser accepts but Go's net/http (Kratos) reads otherwise, so that no single
 * forwarded message can stand for it (RFC 9112 §6.1, §3.2):
 * - a Transfer-Encoding other than exactly `chunked` (`gzip, chunked`, two fields): Node
 *   de-chunks it, Go answers 501;
 * - a Transfer-Encoding on HTTP/1.0: faulty framing, which Go ignores and Node does not;
 * - more than one Host: Node keeps the first, Go answers 400.
 */
function framingRefusal(incoming: IncomingMessage): Refusal | undefined {
  const te = incoming.headers["transfer-encoding"];
  if (te !== undefined) {
    if (te.trim().toLowerCase() !== "chunked") return "transfer_encoding_unsupported";
    if (incoming.httpVersion !== "1.1") return "transfer_encoding_http10";
  }
  const raw = incoming.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.length === 4 && raw[i]?.toLowerCase() === "host") hosts++;
  return hosts > 1 ? "host_repeated" : undefined;
}

function read(res: IncomingMessage): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.once("end", () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    res.once("error", reject);
  });
}

/**
 * The client's connection on Node, from the request's socket (what Hono's `getConnInfo` for
 * @hono/node-server reads): its address in plain form, its port, `https` when TLS, and the Host
 * the client asked for.
 */
export function getNodeConnInfo(c: Context): ConnInfo {
  const { incoming } = bindings(c);
  const socket = incoming.socket as typeof incoming.socket & { encrypted?: boolean };
  return {
    remote: { address: plainAddress(socket.remoteAddress), port: socket.remotePort },
    proto: socket.encrypted ? "https" : "http",
    host: incoming.headers.host,
  };
}

/**
 * The gateway's transport on Node: forwards with `node:http` (or `node:https`) over a keep-alive
 * agent, streaming the client's body straight from the socket when the gateway did not read it.
 * Measured against Hono with `fetch` in test/bench (docs/performance.md): the web-stream and
 * Headers conversions of `fetch` cost more than the forwarding itself.
 */
export function createNodeGatewayRuntime(upstream: URL): GatewayTransport & { close(): void } {
  const https = upstream.protocol === "https:";
  const agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = https ? httpsRequest : httpRequest;
  // Parsed once: every request goes to the same origin.
  const { origin } = upstream;
  const host = upstream.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(upstream.port || (https ? 443 : 80));

  return {
    /** Closes the keep-alive connections to Kratos (`serve()`'s `close()`). */
    close() {
      agent.destroy();
    },
    forward(request: UpstreamRequest, c: Context): Promise<Response> {
      const { incoming, outgoing } = bindings(c);
      // One request in, one request out: the body goes with framing of its own on every method.
      // Node's client adds none for GET, HEAD, DELETE and OPTIONS; their bytes would be read by
      // Kratos as a second request on the pooled connection (request smuggling).
      const headers = request.headers;
      const framing = request.body === undefined ? framingOf(incoming) : request.body.byteLength;
      if (framing === "chunked") headers["transfer-encoding"] = "chunked";
      else if (framing > 0 || request.body !== undefined) headers["content-length"] = String(framing);
      return new Promise((resolve, reject) => {
        const out = send({ host, port, path: request.url.slice(origin.length), method: request.method, headers, agent });
        // A body that ends short of its Content-Length fails the request instead of leaving the
        // upstream connection waiting for bytes that would come from the next request.
        (out as typeof out & { strictContentLength: boolean }).strictContentLength = true;
        let settled = false;
        const fail = (kind: UpstreamError["kind"], detail: string) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          outgoing.off("close", clientGone);
          out.destroy();
          reject(new UpstreamError(kind, detail));
        };
        const succeed = (response: Response) => {
          settled = true;
          outgoing.off("close", clientGone);
          resolve(response);
        };
        const timer = setTimeout(() => fail("timeout", `no answer within ${request.timeoutMs} ms`), request.timeoutMs);
        // A client that goes away before Kratos answers takes its upstream request with it.
        const clientGone = () => fail("aborted", "the client closed the connection");
        outgoing.once("close", clientGone);
        out.once("error", (error: NodeJS.ErrnoException) => fail("unreachable", error.code ?? error.name));
        out.once("response", (res) => {
          clearTimeout(timer);
          const headers = toClientHeaders(res.headers);
          const status = res.statusCode ?? STATUS.badGateway;
          const length = Number(res.headers["content-length"] ?? Number.NaN);
          if (Number.isInteger(length) && length <= BUFFERED_BYTES) {
            read(res).then(
              (body) => succeed(toResponse(status, headers, length === 0 ? null : body)),
              (error: NodeJS.ErrnoException) => fail("unreachable", error.code ?? error.name),
            );
            return;
          }
          succeed(toResponse(status, headers, Readable.toWeb(res) as ReadableStream));
        });
        if (request.body !== undefined) out.end(request.body);
        else if (framing === 0) out.end();
        else incoming.pipe(out);
      });
    },
    headers: (c) => bindings(c).incoming.headers,
    inspect: (response) => received.get(response),
    framingRefusal: (c) => framingRefusal(bindings(c).incoming),
  };
}
