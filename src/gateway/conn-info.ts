import type { Context } from "hono";
import type { Peer } from "./headers.js";
import type { GatewayTransport } from "./transport.js";

/**
 * The client's connection as the platform reports it: `remote` in the shape of Hono's `ConnInfo`,
 * plus the scheme and Host the forwarding headers repeat to Kratos and, where the platform knows
 * it, the client's country (a phone region source with `gateway.regionFromClientCountry`).
 */
export interface ConnInfo {
  remote: {
    /** The client's IP address, plain (`127.0.0.1`, not `::ffff:127.0.0.1`); on Workers, Cloudflare's `CF-Connecting-IP`. */
    address?: string | undefined;
    /** The client's port, where the runtime sees the socket (Node). */
    port?: number | undefined;
  };
  /** The scheme the client used: `http` or `https`. */
  proto: string;
  /** The Host the client asked for. */
  host: string | undefined;
  /** The client's country where the platform knows it (Cloudflare's `request.cf.country`). */
  country?: string | undefined;
}

/**
 * Reads the client's connection from a request's context, one per adapter as Hono's
 * `getConnInfo` is: Node's from the socket (src/adapters/node-gateway.ts), the Worker's from
 * Cloudflare's header and `request.cf` (./fetch-runtime.ts).
 */
export type GetConnInfo = (c: Context) => ConnInfo;

/** The connection as the forwarding headers (`toUpstreamHeaders`) and the shield read it. */
export function peerOf(info: ConnInfo): Peer {
  return { address: info.remote.address, proto: info.proto, host: info.host };
}

/** The last address of `X-Forwarded-For` (every header line, comma lists), or undefined. */
function lastForwardedFor(value: string | string[] | undefined): string | undefined {
  const all = [value ?? []]
    .flat()
    .flatMap((line) => line.split(","))
    .map((part) => part.trim())
    .filter((part) => part !== "");
  return all.at(-1);
}

/**
 * The client's IP address (`c.get("clientAddress")`): the connection's, or with
 * `trustForwardedHeaders` the address the trusted proxy appended last to `X-Forwarded-For`.
 */
export function clientAddressOf(
  c: Context,
  sources: { connInfo: GetConnInfo; transport: Pick<GatewayTransport, "headers"> },
  trustForwardedHeaders: boolean,
): string | undefined {
  const peer = sources.connInfo(c).remote.address;
  return trustForwardedHeaders ? (lastForwardedFor(sources.transport.headers(c)["x-forwarded-for"]) ?? peer) : peer;
}
