import type { HookId } from "./hooks.js";

/** One hook call as the metrics count it (the log line holds the same facts). */
export interface HookCallRecord {
  hook: HookId;
  /** `continue`, `patch`, `deny`, `timeout` or `rejected`. */
  decision: string;
  status: number;
  durationMs: number;
  /** The policy that denied, for a denial. */
  policy: string | null;
  /** The message keys of a denial. */
  messages: readonly string[];
}

/** One request through the gateway. */
export interface GatewayRecord {
  /** The route template, as the log line names it (never the path itself). */
  route: string;
  status: number;
  rewritten: boolean;
  durationMs: number;
  /** Why the gateway refused the request (400) instead of forwarding it: a key of the gateway's refusal table. */
  refusal?: string;
}

/**
 * Counters and latencies for operators, behind an interface like the logger: Prometheus on Node
 * (src/adapters/node-metrics.ts); on Workers the platform's own analytics take the log lines.
 */
export interface Metrics {
  hookCall(record: HookCallRecord): void;
  gatewayRequest(record: GatewayRecord): void;
}

export const NO_METRICS: Metrics = { hookCall: () => {}, gatewayRequest: () => {} };
