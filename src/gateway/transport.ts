import type { Context } from "hono";
import type { HeaderRecord } from "./headers.js";
import type { Refusal } from "./refusals.js";

/** One request to Kratos, as the gateway prepared it. */
export interface UpstreamRequest {
  method: string;
  /** Kratos's public URL for this request: its origin, path and query. */
  url: string;
  headers: Record<string, string | string[]>;
  /**
   * The bytes the gateway read (and possibly rewrote), or `undefined`: the client's own body (if
   * any), streamed to Kratos as it arrives.
   */
  body: Uint8Array | undefined;
  /** How long to wait for Kratos's response headers before giving up (504). */
  timeoutMs: number;
}

/**
 * Kratos could not be reached (502), did not answer in time (504), or the client left before it
 * answered (logged as 499, nginx's "client closed request"). Nothing was sent to the client yet.
 */
export class UpstreamError extends Error {
  override name = "UpstreamError";
  constructor(
    readonly kind: "unreachable" | "timeout" | "aborted",
    /** A short, value-free description for the log (an error code such as ECONNREFUSED). */
    readonly detail: string,
  ) {
    super(`${kind}: ${detail}`);
  }
}

/**
 * How the gateway reaches Kratos on the runtime it runs on. Node forwards with `node:http` and a
 * keep-alive agent (src/adapters/node-gateway.ts); Workers with `fetch` (./fetch-runtime.ts). Who
 * the client is comes apart from this, from the adapter's `GetConnInfo` (./conn-info.ts).
 */
export interface GatewayTransport {
  /**
   * Sends the request to Kratos and returns Kratos's answer for the client: status, headers
   * (hop-by-hop ones removed; Set-Cookie and Location untouched) and body, redirects not followed.
   * Rejects with `UpstreamError` when Kratos cannot be reached or is too slow.
   */
  forward(request: UpstreamRequest, c: Context): Promise<Response>;
  /** The client's request headers, lower-case names. */
  headers(c: Context): HeaderRecord;
  /**
   * Kratos's answer as the runtime received it, when it holds it whole (Node: a body up to 64 KiB,
   * read before it was handed over): what the shield reads of an answer without turning the
   * runtime's cheap Response into a web one. Undefined otherwise (then the Response is read).
   */
  inspect?(response: Response): { headers: HeaderRecord; body: Uint8Array | null } | undefined;
  /**
   * Why the request's framing cannot be forwarded as one message Kratos reads the same way, where
   * the runtime reads the bytes itself (Node); undefined when it can. Workers never see framing.
   */
  framingRefusal?(c: Context): Refusal | undefined;
}
