import type { HookId } from "./hooks.js";

/** One hook call as the metrics count it (the log line holds the same facts). */
export interface HookCallRecord {
  hook: HookId;
  /** `continue`, `patch`, `deny`, `timeout`, `failed` or `rejected`. */
  decision: string;
  status: number;
  durationMs: number;
  /** The policy that denied, for a denial; that failed, for a failure; that was waited on, for a timeout. */
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

/** One thing the gateway's shield did (docs/shield.md#metrics). */
export interface ShieldRecord {
  /**
   * `attempt`: a login or code-sending submit was checked; `refused`: answered by the shield
   * (`reason`); `lock`: a failure that began a lock (`reason`); `store_error`: the store did not
   * answer (`reason`: the fail mode applied).
   */
  event: "attempt" | "refused" | "lock" | "store_error";
  /** The self-service flow. */
  flow: string;
  reason?: string;
}

/**
 * Counters and latencies for operators, behind an interface like the logger: Prometheus on Node
 * (src/adapters/node-metrics.ts); on Workers the platform's own analytics take the log lines.
 */
export interface Metrics {
  hookCall(record: HookCallRecord): void;
  gatewayRequest(record: GatewayRecord): void;
  shield(record: ShieldRecord): void;
}

export const NO_METRICS: Metrics = { hookCall: () => {}, gatewayRequest: () => {}, shield: () => {} };
