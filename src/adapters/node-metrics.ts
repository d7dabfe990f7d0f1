import { Hono } from "hono";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { STATUS } from "../core/http-status.js";
import type { Metrics } from "../core/metrics.js";
import type { ConnectionEvents } from "./node-connections.js";

/** Latency buckets, in seconds: a hook answers in about a millisecond; Kratos gives up at 30 s. */
const HOOK_BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];
/** The gateway waits for Kratos: a login is tens of milliseconds, a slow hook behind it seconds. */
const GATEWAY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 100];

/** The hook calls' metrics, and what records one call in them. */
function hookCallRecorder(registry: Registry): Metrics["hookCall"] {
  const calls = new Counter({
    name: "kratos_hooks_hook_calls_total",
    help: "Hook calls by hook, decision (continue, patch, deny, timeout, rejected) and HTTP status.",
    labelNames: ["hook", "decision", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "kratos_hooks_hook_duration_seconds",
    help: "Time to answer a hook call, by hook.",
    labelNames: ["hook"],
    buckets: HOOK_BUCKETS,
    registers: [registry],
  });
  const denials = new Counter({
    name: "kratos_hooks_denials_total",
    help: "Messages in denials, by message key and the policy that denied.",
    labelNames: ["key", "policy"],
    registers: [registry],
  });
  const overruns = new Counter({
    name: "kratos_hooks_budget_overruns_total",
    help: "Hook calls that exceeded budgetMs, by hook.",
    labelNames: ["hook"],
    registers: [registry],
  });
  const failures = new Counter({
    name: "kratos_hooks_policy_failures_total",
    help: "Policies that threw or returned a decision Kratos would misread, by hook and policy; answered by failMode (built-in ones always closed).",
    labelNames: ["hook", "policy"],
    registers: [registry],
  });
  return ({ hook, decision, status, durationMs, policy, messages }) => {
    calls.inc({ hook, decision, status: String(status) });
    duration.observe({ hook }, durationMs / 1000);
    if (decision === "timeout") overruns.inc({ hook });
    if (decision === "failed") failures.inc({ hook, policy: policy ?? "none" });
    // A timeout's or a failure's message is the service's, whichever policy was running.
    const by = decision === "timeout" ? "budget" : decision === "failed" ? "failure" : (policy ?? "none");
    for (const key of messages) denials.inc({ key, policy: by });
  };
}

/** The gateway's metrics and its shield's, and what records a request or a shield event in them. */
function gatewayRecorders(registry: Registry): Pick<Metrics, "gatewayRequest" | "shield"> {
  const gatewayRequests = new Counter({
    name: "kratos_hooks_gateway_requests_total",
    help: "Requests through the gateway by route template, status, and whether a phone field was rewritten.",
    labelNames: ["route", "status", "rewritten"],
    registers: [registry],
  });
  const gatewayRefusals = new Counter({
    name: "kratos_hooks_gateway_refusals_total",
    help: "Requests the gateway refused (400) because Kratos could read them differently, by reason (docs/gateway.md#security).",
    labelNames: ["reason"],
    registers: [registry],
  });
  const gatewayDuration = new Histogram({
    name: "kratos_hooks_gateway_duration_seconds",
    help: "Time to answer through the gateway (Kratos's time included), by route template.",
    labelNames: ["route"],
    buckets: GATEWAY_BUCKETS,
    registers: [registry],
  });
  const shieldEvents = new Counter({
    name: "kratos_hooks_shield_events_total",
    help: "The shield's work by flow and event: attempts checked, refusals and locks by reason, store errors by fail mode (docs/shield.md#metrics).",
    labelNames: ["flow", "event", "reason"],
    registers: [registry],
  });
  return {
    gatewayRequest({ route, status, rewritten, durationMs, refusal }) {
      gatewayRequests.inc({ route, status: String(status), rewritten: String(rewritten) });
      if (refusal !== undefined) gatewayRefusals.inc({ reason: refusal });
      gatewayDuration.observe({ route }, durationMs / 1000);
    },
    shield({ event, flow, reason }) {
      shieldEvents.inc({ flow, event, reason: reason ?? "" });
    },
  };
}

/** The connection bounds' metrics, and the events of one listener's bounds in them. */
function connectionRecorders(registry: Registry): (listener: string) => ConnectionEvents {
  const shed = new Counter({
    name: "kratos_hooks_connections_shed_total",
    help: "Waiting (idle or silent) connections closed to make room for a new one, by listener and the bound met (per_address, overall).",
    labelNames: ["listener", "bound"],
    registers: [registry],
  });
  const refused = new Counter({
    name: "kratos_hooks_connections_refused_total",
    help: "New connections refused (503, or closed unanswered past the hard bound), by listener and the bound met (per_address, overall, hard).",
    labelNames: ["listener", "bound"],
    registers: [registry],
  });
  return (listener) => ({
    shed: (bound) => shed.inc({ listener, bound }),
    refused: (bound) => refused.inc({ listener, bound }),
  });
}

/**
 * Prometheus metrics (prom-client, its text format), every label from a closed set: hook ids,
 * decisions, statuses, message keys, policy names, route templates. No label ever holds a path,
 * an id or a value.
 */
export function createPrometheusMetrics(): {
  metrics: Metrics;
  registry: Registry;
  /** The events of one listener's connection bounds (`listener`: hooks, gateway, metrics). */
  connections: (listener: string) => ConnectionEvents;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const hookCall = hookCallRecorder(registry);
  const gateway = gatewayRecorders(registry);
  const connections = connectionRecorders(registry);
  return { registry, connections, metrics: { hookCall, ...gateway } };
}

/** The metrics listener's app: `GET /metrics` in Prometheus's text format, and nothing else. */
export function createMetricsApp(registry: Registry): Hono {
  const app = new Hono();
  app.get("/metrics", async () => new Response(await registry.metrics(), { headers: { "content-type": registry.contentType } }));
  app.notFound(() => new Response("not found: the metrics are at /metrics\n", { status: STATUS.notFound }));
  return app;
}
