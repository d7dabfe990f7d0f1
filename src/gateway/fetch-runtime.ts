import type { Context } from "hono";
import type { ConnInfo } from "./conn-info.js";
import { type HeaderRecord, toClientHeaders } from "./headers.js";
import { type GatewayTransport, UpstreamError } from "./transport.js";

function toRecord(headers: Headers): HeaderRecord {
  const record: HeaderRecord = {};
  for (const [name, value] of headers) if (name !== "set-cookie") record[name] = value;
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) record["set-cookie"] = cookies;
  return record;
}

function toHeaders(record: Record<string, string | string[]>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(record)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  return headers;
}

/**
 * The gateway's transport on Cloudflare Workers (and any runtime with `fetch`): forwards with
 * `fetch`, `redirect: "manual"`. Who the client is: `getWorkersConnInfo`.
 */
export function createFetchRuntime(send: typeof fetch = (input, init) => fetch(input, init)): GatewayTransport {
  return {
    async forward(request, c) {
      const signal = AbortSignal.timeout(request.timeoutMs);
      const headers = toHeaders(request.headers);
      // fetch decodes compressed bodies but keeps Content-Encoding; asking for none keeps both in step.
      headers.delete("accept-encoding");
      // GET and HEAD go without a body (fetch allows none): the client's, or the shield's own
      // request for a flow (`body` empty).
      const bodiless = request.method === "GET" || request.method === "HEAD";
      const streamed = request.body === undefined && !bodiless ? c.req.raw.body : null;
      const init: RequestInit & { duplex?: "half" } = {
        method: request.method,
        headers,
        body: bodiless ? null : (request.body ?? streamed),
        redirect: "manual",
        signal,
      };
      if (streamed !== null) init.duplex = "half";
      let response: Response;
      try {
        response = await send(request.url, init);
      } catch (error) {
        if (signal.aborted) throw new UpstreamError("timeout", `no answer within ${request.timeoutMs} ms`);
        throw new UpstreamError("unreachable", error instanceof Error ? error.name : "error");
      }
      return new Response(response.body, {
        status: response.status,
        statusText: response.statusText,
        headers: toHeaders(toClientHeaders(toRecord(response.headers))),
      });
    },
    headers: (c: Context) => toRecord(c.req.raw.headers),
  };
}

/**
 * The client's connection on Cloudflare Workers (Hono's `getConnInfo` there reads the same
 * header): Cloudflare's `CF-Connecting-IP`, the URL's scheme and host, and `request.cf.country`.
 * Only Cloudflare's edge vouches for that header: anywhere else a client writes it.
 */
export function getWorkersConnInfo(c: Context): ConnInfo {
  const url = new URL(c.req.url);
  return {
    remote: { address: c.req.header("cf-connecting-ip") },
    proto: url.protocol.slice(0, -1),
    host: url.host,
    country: (c.req.raw as Request & { cf?: { country?: unknown } }).cf?.country as string | undefined,
  };
}

/** What the URL says of the connection, and nothing a client could have written: no address, no country. */
function urlConnInfo(c: Context): ConnInfo {
  const url = new URL(c.req.url);
  return { remote: {}, proto: url.protocol.slice(0, -1), host: url.host };
}

/**
 * `createGateway`'s default reading of the client: Cloudflare's (`getWorkersConnInfo`) when it runs
 * on Workers, which say so in `navigator.userAgent`; elsewhere (a server of yours that embeds the
 * gateway) only what the URL says, since a client could send any `CF-Connecting-IP` there and so
 * choose the address Kratos is told and the shield counts by. `serve()` gives the gateway Node's
 * reading of the socket instead.
 */
export function getDefaultConnInfo(c: Context): ConnInfo {
  const { navigator } = globalThis as { navigator?: { userAgent?: unknown } };
  const onWorkers = navigator?.userAgent === "Cloudflare-Workers";
  return onWorkers ? getWorkersConnInfo(c) : urlConnInfo(c);
}
