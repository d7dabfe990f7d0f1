import type { Context, MiddlewareHandler } from "hono";
import type { ShieldConfig } from "../../config/schema.js";
import { isJsonObject } from "../../core/json.js";
import type { Logger } from "../../core/logger.js";
import type { Metrics } from "../../core/metrics.js";
import type { GatewayEnv } from "../app.js";
import { DEVICE_HEADER, GATEWAY_MARKER, type HeaderRecord, toUpstreamHeaders } from "../headers.js";
import type { GatewayRuntime } from "../transport.js";
import { flowWithMessage, formRefusal, jsonRefusal, shieldMessage, type UiMessage } from "./answer.js";
import type { Attempt } from "./attempt.js";
import { isPrivateAddress } from "./keys.js";
import { type Outcome, outcomeOfFlow, outcomeOfJson, redirectOutcome } from "./outcome.js";
import type { Shield, ShieldCheck, ShieldRefusal } from "./shield.js";

/** The cookie a browser holds its device marker in. */
export const DEVICE_COOKIE = "kratos_hooks_device";

interface Upstream {
  runtime: GatewayRuntime;
  /** Kratos's public origin, no trailing slash. */
  base: string;
  /** The headers the submission was forwarded with (the client's cookies among them). */
  headers: Record<string, string | string[]>;
  timeoutMs: number;
  c: Context;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The flow, fetched from Kratos as the client would (its cookies): `GET /self-service/<flow>/flows?id=`. */
async function fetchFlow(attempt: Attempt, upstream: Upstream): Promise<unknown> {
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
    const response = await upstream.runtime.forward(
      { method: "GET", url, headers, body: new Uint8Array(0), timeoutMs: upstream.timeoutMs },
      upstream.c,
    );
    if (response.status !== 200) return undefined;
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
  const raw = upstream.runtime.inspect?.(response);
  if (status >= 300 && status < 400) {
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

const utf8 = new TextDecoder();

function deviceOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const sent = first(headers[DEVICE_HEADER]);
  if (sent !== undefined) return sent.trim();
  const cookie = [headers.cookie ?? []].flat().join("; ");
  const match = new RegExp(`(?:^|;\\s*)${DEVICE_COOKIE}=([^;]*)`).exec(cookie);
  return match?.[1]?.trim();
}

/**
 * Replaces the answer after `next()`. Hono's `c.res = …` copies the old answer's headers onto the
 * new one (Content-Length, Set-Cookie); clearing it first keeps the new one as built.
 */
function replace(c: Context, response: Response): void {
  c.res = undefined as unknown as Response;
  c.res = response;
}

/**
 * An answer's headers and body: as the runtime holds them (Node: no web Headers or stream made
 * from its cheap Response), else read from the Response (Set-Cookie kept apart).
 */
async function partsOf(runtime: GatewayRuntime, response: Response): Promise<{ headers: HeaderRecord; body: Uint8Array | null }> {
  const raw = runtime.inspect?.(response);
  if (raw !== undefined) return raw;
  const headers: HeaderRecord = {};
  for (const [name, value] of response.headers) if (name !== "set-cookie") headers[name] = value;
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  return { headers, body: response.body === null ? null : new Uint8Array(await response.arrayBuffer()) };
}

/** Headers as [name, value] pairs (Set-Cookie one pair each), `change` set or (undefined) removed. */
function pairsOf(headers: HeaderRecord, change: Record<string, string | undefined>): [string, string][] {
  const pairs: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name in change) continue;
    for (const one of [value].flat()) pairs.push([name, one]);
  }
  for (const [name, value] of Object.entries(change)) if (value !== undefined) pairs.push([name, value]);
  return pairs;
}

/** A response with headers added (Set-Cookie appended, others set), status and body as they were. */
async function withHeaders(runtime: GatewayRuntime, response: Response, add: Record<string, string>, cookie?: string): Promise<Response> {
  const parts = await partsOf(runtime, response);
  const pairs = pairsOf(parts.headers, add);
  if (cookie !== undefined) pairs.push(["set-cookie", cookie]);
  return new Response(parts.body, { status: response.status, headers: pairs });
}

/** The Workers runtime's `waitUntil` for this request, or undefined elsewhere (Hono throws for Node). */
function waitUntilOf(c: Context): ((promise: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (promise) => ctx.waitUntil(promise);
  } catch {
    return undefined;
  }
}

/** Runs once the answer has been handed over (Node's `setImmediate`; at once where there is none). */
function afterAnswer(run: () => void): void {
  const setImmediate = (globalThis as { setImmediate?: (run: () => void) => void }).setImmediate;
  if (setImmediate === undefined) run();
  else setImmediate(run);
}

export interface ShieldRuleOptions {
  shield: Shield;
  config: ShieldConfig;
  trustForwardedHeaders: boolean;
  runtime: GatewayRuntime;
  base: string;
  logger: Logger;
  metrics: Metrics;
}

/** A flow fetched by its UI (`GET /self-service/<flow>/flows?id=`): where a refused form post's message is shown. */
export const FLOWS_FETCH = /^\/self-service\/(login|registration|settings|recovery)\/flows$/;

/**
 * The shield as a gateway rule (the first one): it reads the attempt, refuses it in Kratos's
 * shape or lets it through, then reads the outcome and records it. It also adds its message to
 * a refused form post's flow when the UI fetches that flow through the gateway.
 */
export function shieldRule(options: ShieldRuleOptions): MiddlewareHandler<GatewayEnv> {
  const { shield, config, runtime, logger, metrics } = options;
  let warnedPrivate = false;
  const countsPerClient = (c: Context<GatewayEnv>): boolean => {
    if (config.perClient !== "auto") return config.perClient === "on";
    if (options.trustForwardedHeaders || !isPrivateAddress(runtime.peer(c).address)) return true;
    if (!warnedPrivate) {
      warnedPrivate = true;
      logger.warn(
        { shield: "per_client_off" },
        "shield: the gateway's peer is a private address and gateway.trustForwardedHeaders is off, so every client may share it: not counting per client (docs/shield.md#behind-an-ingress)",
      );
    }
    return false;
  };
  // A flow id is Kratos's UUID; anything else (the client's say-so) names no note.
  const noteKey = (flowId: string) => (/^[0-9a-zA-Z-]{1,64}$/.test(flowId) ? `kh:n:${flowId}` : undefined);

  return async (c, next) => {
    const attempt = c.get("attempt");
    if (attempt === undefined) {
      await next();
      const match = c.req.method === "GET" ? FLOWS_FETCH.exec(c.req.path) : null;
      const id = match === null ? undefined : (c.req.query("id") ?? undefined);
      if (id === undefined || c.res.status !== 200) return;
      const key = noteKey(id);
      if (key === undefined) return;
      let note: string | undefined;
      try {
        note = await shield.store.get(key, Date.now());
      } catch {
        return;
      }
      if (note === undefined) return;
      const parts = await partsOf(runtime, c.res);
      const type = first(parts.headers["content-type"]) ?? "";
      if (parts.body === null || !type.toLowerCase().includes("json")) return;
      let flow: unknown;
      try {
        flow = JSON.parse(utf8.decode(parts.body));
      } catch {
        return;
      }
      const shown = flowWithMessage(flow, JSON.parse(note) as UiMessage);
      if (shown === undefined) return;
      replace(c, new Response(JSON.stringify(shown), { status: 200, headers: pairsOf(parts.headers, { "content-length": undefined }) }));
      return;
    }
    const relevant = (attempt.flow === "login" && attempt.identifier !== undefined) || attempt.sends !== undefined;
    if (!relevant) return next();
    metrics.shield({ event: "attempt", flow: attempt.flow });
    const headers = runtime.headers(c);
    let check: ShieldCheck;
    try {
      check = await shield.check(attempt, countsPerClient(c), deviceOf(headers));
    } catch (error) {
      metrics.shield({ event: "store_error", flow: attempt.flow, reason: config.failMode });
      logger.warn(
        { shield: "store_error", store: shield.store.kind, failMode: config.failMode, err: { type: (error as Error).name } },
        "shield: the store did not answer",
      );
      if (config.failMode === "open") return next();
      check = { refusal: { reason: "store_unavailable", retryAt: Date.now() + 60_000 } };
    }
    if (check.refusal !== undefined) return refuse(c, attempt, check.refusal, check);
    await next();
    const outcome = c.get("outcome");
    if (check.after === undefined || outcome === undefined) return;
    const storeError = (error: unknown) => {
      metrics.shield({ event: "store_error", flow: attempt.flow, reason: config.failMode });
      logger.warn(
        { shield: "store_error", store: shield.store.kind, err: { type: (error as Error).name } },
        "shield: the store did not answer",
      );
    };
    try {
      const result = await check.after(await outcome());
      // The answer does not wait for the writes: to the memory store they are done at once; to
      // Redis they go once the answer has (on the same connection as any later attempt's reads);
      // on Workers they are kept alive past the answer (waitUntil).
      const write = () => result.write().catch(storeError);
      if (shield.store.local === true) void write();
      else if (waitUntilOf(c) !== undefined) waitUntilOf(c)?.(write());
      else afterAnswer(write);
      if (result.locked !== undefined) {
        metrics.shield({ event: "lock", flow: attempt.flow, reason: result.locked });
        logger.info(
          { shield: "lock", reason: result.locked, subject: check.subject?.slice(0, 12), client: check.client?.slice(0, 12) },
          "shield: lock",
        );
      }
      if (result.device !== undefined) {
        const days = config.login.deviceDays;
        if (headers.cookie === undefined) replace(c, await withHeaders(runtime, c.res, { [DEVICE_HEADER]: result.device }));
        else {
          const proto = options.trustForwardedHeaders
            ? (first(headers["x-forwarded-proto"]) ?? runtime.peer(c).proto)
            : runtime.peer(c).proto;
          const secure = proto === "https" ? "; Secure" : "";
          replace(
            c,
            await withHeaders(
              runtime,
              c.res,
              {},
              `${DEVICE_COOKIE}=${result.device}; Path=/; Max-Age=${days * 86_400}; HttpOnly; SameSite=Lax${secure}`,
            ),
          );
        }
      }
    } catch (error) {
      storeError(error);
    }
  };

  async function refuse(c: Context<GatewayEnv>, attempt: Attempt, refusal: ShieldRefusal, check: ShieldCheck): Promise<Response> {
    const now = Date.now();
    const message = shieldMessage(refusal, now);
    metrics.shield({ event: "refused", flow: attempt.flow, reason: refusal.reason });
    logger.info(
      {
        shield: "refused",
        flow: attempt.flow,
        reason: refusal.reason,
        subject: check.subject?.slice(0, 12),
        client: check.client?.slice(0, 12),
      },
      "shield: refused",
    );
    const upstream: Upstream = {
      runtime,
      base: options.base,
      headers: toUpstreamHeaders(runtime.headers(c), runtime.peer(c), options.trustForwardedHeaders),
      timeoutMs: 10_000,
      c,
    };
    if (attempt.clientKind === "json") return jsonRefusal(await fetchFlow(attempt, upstream), message);
    const uiUrl = config.uiUrls[attempt.flow as keyof typeof config.uiUrls] ?? null;
    const key = attempt.flowId === undefined ? undefined : noteKey(attempt.flowId);
    if (uiUrl !== null && key !== undefined) {
      const ttl = Math.min(Math.max((message.context.retry_after_seconds ?? 60) * 1000, 60_000), 3_600_000);
      try {
        await shield.store.put(key, JSON.stringify(message), ttl, now);
      } catch {
        // The 303 still shows the form again; the message is lost with the store.
      }
    }
    return formRefusal(uiUrl, attempt, message);
  }
}
