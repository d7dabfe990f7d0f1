import type { Context } from "hono";
import type { GetConnInfo } from "../conn-info.js";
import { DEVICE_HEADER, type HeaderRecord } from "../headers.js";
import type { GatewayTransport } from "../transport.js";
import { first, replace, withHeaders } from "./response-parts.js";

// The device marker on the wire: a browser keeps it in a cookie, a native app (no cookies) gets it
// in a header and sends it back in the same header.

/** The cookie a browser holds its device marker in. */
export const DEVICE_COOKIE = "kratos_hooks_device";

/** The marker a client sent: its header, else its cookie. */
export function deviceOf(headers: HeaderRecord): string | undefined {
  const sent = first(headers[DEVICE_HEADER]);
  if (sent !== undefined) return sent.trim();
  const cookie = [headers.cookie ?? []].flat().join("; ");
  const match = new RegExp(`(?:^|;\\s*)${DEVICE_COOKIE}=([^;]*)`).exec(cookie);
  return match?.[1]?.trim();
}

/** What handing out a marker needs besides the marker: the transport, the client's connection, whether to trust `X-Forwarded-Proto`, how long it lasts. */
export interface DeviceIssue {
  transport: GatewayTransport;
  connInfo: GetConnInfo;
  trustForwardedHeaders: boolean;
  deviceDays: number;
}

/**
 * Adds a new marker to the answer: as a cookie where the client sent cookies (a browser; `Secure`
 * over HTTPS), else in the header.
 */
export async function issueDevice(c: Context, headers: HeaderRecord, device: string, issue: DeviceIssue): Promise<void> {
  const { transport } = issue;
  if (headers.cookie === undefined) {
    replace(c, await withHeaders(transport, c.res, { [DEVICE_HEADER]: device }));
    return;
  }
  const connected = issue.connInfo(c).proto;
  const proto = issue.trustForwardedHeaders ? (first(headers["x-forwarded-proto"]) ?? connected) : connected;
  const secure = proto === "https" ? "; Secure" : "";
  const cookie = `${DEVICE_COOKIE}=${device}; Path=/; Max-Age=${issue.deviceDays * 86_400}; HttpOnly; SameSite=Lax${secure}`;
  replace(c, await withHeaders(transport, c.res, {}, cookie));
}
