/** A header set as both runtimes can hand it over cheaply: lower-case names, one value each (Set-Cookie: several). */
export type HeaderRecord = Record<string, string | string[] | undefined>;

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus the de-facto ones. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Set on every request the gateway forwards. A request that arrives with it has come round
 * through this gateway again (its upstream points back at it): answered 508, not forwarded.
 */
export const GATEWAY_MARKER = "kratos-hooks-gateway";

/**
 * Headers that say who the client is. Kratos trusts all of them (`x.RequestURL` for URLs and
 * return_to checks; ory/x `httpx.ClientIP` for session devices: True-Client-IP, then
 * Cf-Connecting-IP, then X-Real-IP, then X-Forwarded-For), so unless an operator vouches for a
 * proxy in front, what a client sends in them is dropped and the gateway writes its own.
 */
const CLIENT_IDENTITY = [
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-forwarded-port",
  "forwarded",
  "true-client-ip",
  "cf-connecting-ip",
  "x-real-ip",
];

/** The connection a request arrived on, as the adapter's `GetConnInfo` reports it (`peerOf` in ./conn-info.ts). */
export interface Peer {
  /** The client's IP address (on Workers, Cloudflare's `CF-Connecting-IP`). */
  address: string | undefined;
  /** The scheme the client used: `http` or `https`. */
  proto: string;
  /** The Host the client asked for. */
  host: string | undefined;
}

/** A header's first value (of several lines: the first), or null when the client sent none. */
export function firstHeader(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

const NONE: ReadonlySet<string> = new Set();

function withoutHopByHop(headers: HeaderRecord, drop: ReadonlySet<string>): Record<string, string | string[]> {
  const listed = headers.connection;
  const named =
    listed === undefined
      ? NONE
      : new Set(
          [listed]
            .flat()
            .join(",")
            .split(",")
            .map((name) => name.trim().toLowerCase())
            .filter((name) => name !== ""),
        );
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || drop.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The shield's device marker as a native app sends it back (`Kratos-Hooks-Device`): the gateway's, never Kratos's. */
export const DEVICE_HEADER = "kratos-hooks-device";

/**
 * Never passed on: Host (the transport sets Kratos's), the marker, the framing (Content-Length;
 * Transfer-Encoding is hop-by-hop), which the transport writes for the body it sends, and Expect,
 * which the gateway's own server has answered, and the shield's device marker.
 */
const NOT_FORWARDED = new Set(["host", GATEWAY_MARKER, "content-length", "expect", DEVICE_HEADER]);
const NOT_FORWARDED_UNTRUSTED = new Set([...NOT_FORWARDED, ...CLIENT_IDENTITY]);

/**
 * The headers sent to Kratos: the client's, as sent (Cookie, Authorization, X-Session-Token,
 * X-CSRF-Token included; the gateway never adds a Cookie or an Origin, which native flows
 * refuse), without hop-by-hop headers, Host and the framing (the transport sets both), with the
 * forwarding headers: replaced from the real connection, or, when an upstream proxy is trusted,
 * extended by it.
 */
export function toUpstreamHeaders(headers: HeaderRecord, peer: Peer, trustForwarded: boolean): Record<string, string | string[]> {
  const out = withoutHopByHop(headers, trustForwarded ? NOT_FORWARDED : NOT_FORWARDED_UNTRUSTED);
  const address = peer.address;
  if (trustForwarded) {
    const sent = out["x-forwarded-for"];
    if (address !== undefined) out["x-forwarded-for"] = sent === undefined ? address : `${[sent].flat().join(", ")}, ${address}`;
    out["x-forwarded-proto"] ??= peer.proto;
    if (peer.host !== undefined) out["x-forwarded-host"] ??= peer.host;
  } else {
    if (address !== undefined) {
      out["x-forwarded-for"] = address;
      out["true-client-ip"] = address;
    }
    out["x-forwarded-proto"] = peer.proto;
    if (peer.host !== undefined) out["x-forwarded-host"] = peer.host;
  }
  out[GATEWAY_MARKER] = "1";
  return out;
}

/** The headers sent back to the client: Kratos's, Set-Cookie and Location untouched, without hop-by-hop headers. */
export function toClientHeaders(headers: HeaderRecord): Record<string, string | string[]> {
  return withoutHopByHop(headers, NONE);
}
