import type { Context } from "hono";
import type { Logger } from "../core/logger.js";
import type { Metrics } from "../core/metrics.js";
import { parseTraceparent } from "../core/trace.js";
import { firstHeader } from "./headers.js";
import type { Refusal } from "./refusals.js";
import { routeTemplate } from "./routes.js";
import type { GatewayTransport } from "./transport.js";

/** What a gateway request's log line and metric need: one line and one count per request. */
export interface RequestLogDeps {
  logger: Logger;
  metrics: Metrics;
  /** For the client's `traceparent`. */
  transport: Pick<GatewayTransport, "headers">;
}

/** Milliseconds since `since` (`performance.now()`), to the hundredth. */
function durationSince(since: number): number {
  return Math.round((performance.now() - since) * 100) / 100;
}

/** A request refused before anything read it (its framing, its path): no duration, no trace. */
export function logRefused(deps: RequestLogDeps, c: Context, status: number, refusal: Refusal): void {
  const route = routeTemplate(c.req.path);
  deps.metrics.gatewayRequest({ route, status, rewritten: false, durationMs: 0, refusal });
  deps.logger.info({ method: c.req.method, route, status, refusal }, "gateway request");
}

/** The log line and metric of one request through the forwarding: answered by Kratos, or by the gateway on its way there. */
export function logRequest(
  deps: RequestLogDeps,
  c: Context,
  since: number,
  status: number,
  rewritten: string[],
  extra?: Record<string, unknown>,
): void {
  const durationMs = durationSince(since);
  const route = routeTemplate(c.req.path);
  const refusal = extra?.refusal as Refusal | undefined;
  const trace = parseTraceparent(firstHeader(deps.transport.headers(c).traceparent));
  deps.metrics.gatewayRequest({ route, status, rewritten: rewritten.length > 0, durationMs, ...(refusal && { refusal }) });
  deps.logger.info(
    { method: c.req.method, route, status, rewritten, traceId: trace?.traceId, spanId: trace?.spanId, ...extra, durationMs },
    "gateway request",
  );
}

/** A request a rule (the shield's or yours) answered instead of letting it through. */
export function logAnsweredByRule(deps: RequestLogDeps, c: Context, since: number): void {
  const durationMs = durationSince(since);
  const route = routeTemplate(c.req.path);
  deps.metrics.gatewayRequest({ route, status: c.res.status, rewritten: false, durationMs });
  deps.logger.info({ method: c.req.method, route, status: c.res.status, answeredBy: "rule", durationMs }, "gateway request");
}
