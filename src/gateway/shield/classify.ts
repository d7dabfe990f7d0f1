import type { Context } from "hono";
import { isRedirect, STATUS } from "../../core/http-status.js";
import { isJsonObject } from "../../core/json.js";
import { GATEWAY_MARKER } from "../headers.js";
import type { GatewayTransport } from "../transport.js";
import type { Attempt } from "./attempt.js";
import { type Outcome, outcomeOfFlow, outcomeOfJson, redirectOutcome } from "./outcome.js";
import { first, utf8 } from "./response-parts.js";

/** Where the shield fetches a flow from: Kratos, as the client's submission was forwarded to it. */
export interface Upstream {
  transport: GatewayTransport;
  /** Kratos's public origin, no trailing slash. */
  base: string;
  /** The headers the submission was forwarded with (the client's cookies among them). */
  headers: Record<string, string | string[]>;
  timeoutMs: number;
  c: Context;
}

/** The flow, fetched from Kratos as the client would (its cookies): `GET /self-service/<flow>/flows?id=`. */
export async function fetchFlow(attempt: Attempt, upstream: Upstream): Promise<unknown> {
  if (attempt.flowId === undefined) return undefined;
  const headers: Record<string, string | string[]> = { accept: "application/json" };
  for (const name of [
    "cookie",
    "x-session-token",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "true-client-ip",
    GATEWAY_MARKER,
  ]) {
    const value = upstream.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  const url = `${upstream.base}/self-service/${attempt.flow}/flows?id=${encodeURIComponent(attempt.flowId)}`;
  try {
    const response = await upstream.transport.forward(
      { method: "GET", url, headers, body: new Uint8Array(0), timeoutMs: upstream.timeoutMs },
      upstream.c,
    );
    if (response.status !== STATUS.ok) return undefined;
    return JSON.parse(await response.text()) as unknown;
  } catch {
    return undefined;
  }
}

async function jsonOf(response: Response): Promise<unknown> {
  if (!(response.headers.get("content-type") ?? "").toLowerCase().includes("json")) return undefined;
  try {
    return JSON.parse(await response.clone().text()) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * What Kratos's answer to an attempt means. A JSON answer says it itself; a browser form post's
 * 303 to the flow's UI says only "look at the flow", which is then fetched with the client's
 * cookies (Kratos keeps the failed submit's messages on the flow).
 */
export async function classifyAnswer(response: Response, attempt: Attempt, upstream: Upstream): Promise<Outcome> {
  const status = response.status;
  // The parts as the runtime received them where it holds them (Node): reading the Response
  // itself would turn the runtime's cheap one into a web Response, streamed to the client.
  const raw = upstream.transport.inspect?.(response);
  if (isRedirect(status)) {
    const location = raw === undefined ? (response.headers.get("location") ?? undefined) : first(raw.headers.location);
    const cookies = raw === undefined ? response.headers.getSetCookie() : [raw.headers["set-cookie"] ?? []].flat();
    const redirect = redirectOutcome(status, location, cookies, attempt.flowId);
    if (redirect !== "fetch_flow") return redirect;
    const flow = await fetchFlow(attempt, upstream);
    return isJsonObject(flow) ? outcomeOfFlow(flow, status) : { kind: "other", status };
  }
  if (raw !== undefined) {
    const type = first(raw.headers["content-type"]) ?? "";
    if (raw.body === null || !type.toLowerCase().includes("json")) return outcomeOfJson(status, undefined);
    try {
      return outcomeOfJson(status, JSON.parse(utf8.decode(raw.body)) as unknown);
    } catch {
      return outcomeOfJson(status, undefined);
    }
  }
  return outcomeOfJson(status, await jsonOf(response));
}
