import type { Context, MiddlewareHandler } from "hono";
import type { ShieldConfig } from "../../config/schema.js";
import type { Logger } from "../../core/logger.js";
import type { Metrics } from "../../core/metrics.js";
import { isShieldFormFlow } from "../../core/shield-flows.js";
import type { GatewayEnv } from "../app.js";
import { type GetConnInfo, peerOf } from "../conn-info.js";
import { type HeaderRecord, toUpstreamHeaders } from "../headers.js";
import type { GatewayTransport } from "../transport.js";
import { formRefusal, jsonRefusal, shieldMessage } from "./answer.js";
import type { Attempt } from "./attempt.js";
import type { ShieldCheck, ShieldRefusal } from "./check.js";
import { fetchFlow } from "./classify.js";
import { deviceOf, issueDevice } from "./device-cookie.js";
import { keepNote, showNote } from "./flow-note.js";
import { isPrivateAddress } from "./keys.js";
import type { Shield } from "./shield.js";

// What the gateway's app uses beside the rule, where it has always found it.
export { classifyAnswer } from "./classify.js";
export { FLOWS_FETCH } from "./flow-note.js";

export interface ShieldRuleOptions {
  shield: Shield;
  config: ShieldConfig;
  trustForwardedHeaders: boolean;
  /** How requests reach Kratos (the shield fetches a flow to show its message). */
  transport: GatewayTransport;
  /** Who the client is. */
  connInfo: GetConnInfo;
  base: string;
  logger: Logger;
  metrics: Metrics;
}

/** One shield rule's state: its options, and whether it has warned that it cannot tell clients apart. */
interface RuleState {
  readonly options: ShieldRuleOptions;
  warnedPrivate: boolean;
}

function countsPerClient(state: RuleState, c: Context<GatewayEnv>): boolean {
  const { config, connInfo, logger } = state.options;
  if (config.perClient !== "auto") return config.perClient === "on";
  if (state.options.trustForwardedHeaders || !isPrivateAddress(connInfo(c).remote.address)) return true;
  if (!state.warnedPrivate) {
    state.warnedPrivate = true;
    logger.warn(
      { shield: "per_client_off" },
      "shield: the gateway's peer is a private address and gateway.trustForwardedHeaders is off, so every client may share it: not counting per client (docs/shield.md#behind-an-ingress)",
    );
  }
  return false;
}

/** The shield's check of an attempt; when the store cannot answer, `failMode`: undefined (open: forward it) or a refusal. */
async function checkAttempt(
  state: RuleState,
  c: Context<GatewayEnv>,
  attempt: Attempt,
  headers: HeaderRecord,
): Promise<ShieldCheck | undefined> {
  const { shield, config, logger, metrics } = state.options;
  try {
    return await shield.check(attempt, countsPerClient(state, c), deviceOf(headers));
  } catch (error) {
    metrics.shield({ event: "store_error", flow: attempt.flow, reason: config.failMode });
    logger.warn(
      { shield: "store_error", store: shield.store.kind, failMode: config.failMode, err: { type: (error as Error).name } },
      "shield: the store did not answer",
    );
    if (config.failMode === "open") return undefined;
    return { refusal: { reason: "store_unavailable", retryAt: Date.now() + 60_000 } };
  }
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

/**
 * Records Kratos's answer to a checked attempt: the store's writes (not awaited: to the memory
 * store they are done at once; to Redis they go once the answer has, on the same connection as
 * any later attempt's reads; on Workers they are kept alive past the answer by `waitUntil`), the
 * lock that began, and the device marker a success hands out.
 */
async function recordAnswer(
  options: ShieldRuleOptions,
  c: Context<GatewayEnv>,
  attempt: Attempt,
  check: ShieldCheck,
  headers: HeaderRecord,
): Promise<void> {
  const { shield, config, transport, logger, metrics } = options;
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
      const issue = {
        transport,
        connInfo: options.connInfo,
        trustForwardedHeaders: options.trustForwardedHeaders,
        deviceDays: config.login.deviceDays,
      };
      await issueDevice(c, headers, result.device, issue);
    }
  } catch (error) {
    storeError(error);
  }
}

/**
 * The refusal in Kratos's shape: a JSON client gets the flow with the message (fetched from
 * Kratos); a form post is sent back to its flow's UI, the message kept for the UI's fetch.
 */
async function refuse(
  options: ShieldRuleOptions,
  c: Context<GatewayEnv>,
  attempt: Attempt,
  refusal: ShieldRefusal,
  check: ShieldCheck,
): Promise<Response> {
  const { shield, config, transport, logger, metrics } = options;
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
  if (attempt.clientKind === "json") {
    const headers = toUpstreamHeaders(transport.headers(c), peerOf(options.connInfo(c)), options.trustForwardedHeaders);
    return jsonRefusal(await fetchFlow(attempt, { transport, base: options.base, headers, timeoutMs: 10_000, c }), message);
  }
  const uiUrl = isShieldFormFlow(attempt.flow) ? (config.uiUrls[attempt.flow] ?? null) : null;
  if (uiUrl !== null) await keepNote(shield.store, attempt.flowId, message, now);
  return formRefusal(uiUrl, attempt, message);
}

/**
 * The shield as a gateway rule (the first one): it reads the attempt, refuses it in Kratos's
 * shape or lets it through, then reads the outcome and records it. It also adds its message to
 * a refused form post's flow when the UI fetches that flow through the gateway.
 */
export function shieldRule(options: ShieldRuleOptions): MiddlewareHandler<GatewayEnv> {
  const state: RuleState = { options, warnedPrivate: false };
  return async (c, next) => {
    const attempt = c.get("attempt");
    if (attempt === undefined) {
      await next();
      await showNote(c, options.shield.store, options.transport);
      return;
    }
    const relevant = (attempt.flow === "login" && attempt.identifier !== undefined) || attempt.sends !== undefined;
    if (!relevant) return next();
    options.metrics.shield({ event: "attempt", flow: attempt.flow });
    const headers = options.transport.headers(c);
    const check = await checkAttempt(state, c, attempt, headers);
    if (check === undefined) return next();
    if (check.refusal !== undefined) return refuse(options, c, attempt, check.refusal, check);
    await next();
    await recordAnswer(options, c, attempt, check, headers);
  };
}
