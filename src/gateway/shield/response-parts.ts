import type { Context } from "hono";
import type { HeaderRecord } from "../headers.js";
import type { GatewayTransport } from "../transport.js";

// The shield's edits of an answer on its way back (a message added to a flow, a device marker
// handed out), on the parts as the runtime holds them.

/** The first of a header's values. */
export function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export const utf8 = new TextDecoder();

/**
 * Replaces the answer after `next()`. Hono's `c.res = …` copies the old answer's headers onto the
 * new one (Content-Length, Set-Cookie); clearing it first keeps the new one as built.
 */
export function replace(c: Context, response: Response): void {
  c.res = undefined as unknown as Response;
  c.res = response;
}

/**
 * An answer's headers and body: as the runtime holds them (Node: no web Headers or stream made
 * from its cheap Response), else read from the Response (Set-Cookie kept apart).
 */
export async function partsOf(
  transport: Pick<GatewayTransport, "inspect">,
  response: Response,
): Promise<{ headers: HeaderRecord; body: Uint8Array | null }> {
  const raw = transport.inspect?.(response);
  if (raw !== undefined) return raw;
  const headers: HeaderRecord = {};
  for (const [name, value] of response.headers) if (name !== "set-cookie") headers[name] = value;
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  return { headers, body: response.body === null ? null : new Uint8Array(await response.arrayBuffer()) };
}

/** Headers as [name, value] pairs (Set-Cookie one pair each), `change` set or (undefined) removed. */
export function pairsOf(headers: HeaderRecord, change: Record<string, string | undefined>): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name in change) continue;
    for (const one of [value].flat()) pairs.push([name, one]);
  }
  for (const [name, value] of Object.entries(change)) if (value !== undefined) pairs.push([name, value]);
  return pairs;
}

/** A response with headers added (Set-Cookie appended, others set), status and body as they were. */
export async function withHeaders(
  transport: Pick<GatewayTransport, "inspect">,
  response: Response,
  add: Record<string, string>,
  cookie?: string,
): Promise<Response> {
  const parts = await partsOf(transport, response);
  const pairs = pairsOf(parts.headers, add);
  if (cookie !== undefined) pairs.push(["set-cookie", cookie]);
  return new Response(parts.body, { status: response.status, headers: pairs });
}
