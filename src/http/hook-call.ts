import type { Context } from "hono";
import type { Config } from "../config/schema.js";
import type { HookInput } from "../core/decision.js";
import { type HookId, isHookId } from "../core/hooks.js";
import { STATUS } from "../core/http-status.js";
import { type Logger, withFields } from "../core/logger.js";
import type { Metrics } from "../core/metrics.js";
import { type PipelineResult, runPipeline } from "../core/pipeline.js";
import type { Policy } from "../core/policy.js";
import { maskText } from "../core/redact.js";
import { type SubjectFields, toSubject } from "../core/subject.js";
import { parseTraceparent, type TraceContext } from "../core/trace.js";
import { type AnswerOptions, answeredFailMode, type KratosAnswer, toKratosResponse } from "../kratos/response.js";
import type { AppEnv } from "./app.js";
import { maskedKeyId, presentedKey } from "./auth.js";
import { errorResponse } from "./errors.js";
import { readHookRequest } from "./read-hook-request.js";
import { requestIdOf, triggerIdOf } from "./request-ids.js";

/** What answering a hook call needs, fixed when the app is created. */
export interface HookCallDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  policies: readonly Policy[];
  authenticate: (authorization: string | undefined) => boolean;
  subjectFields: SubjectFields;
  answerOptions: AnswerOptions;
}

/** The ids of one call, on each of its log lines. */
interface CallIds {
  hook: HookId;
  requestId: string;
  triggerId: string | undefined;
  trace: TraceContext | undefined;
}

/** What the "hook call" line says of a call. */
type CallFields = { decision: string; status: number; messages?: readonly string[]; policy?: string | null } & Record<string, unknown>;

/** Records the call: its metric, and its one "hook call" line with the time it took. */
type CallLog = (fields: CallFields, level?: "info" | "warn") => void;

function answer(result: KratosAnswer): Response {
  if (result.body === null) return new Response(null, { status: result.status });
  return new Response(result.body, { status: result.status, headers: { "content-type": "application/json; charset=utf-8" } });
}

function callLog(deps: HookCallDeps, ids: CallIds, started: number): CallLog {
  const { hook, requestId, triggerId, trace } = ids;
  return (fields, level = "info") => {
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    deps.metrics.hookCall({
      hook,
      decision: fields.decision,
      status: fields.status,
      durationMs,
      policy: fields.policy ?? null,
      messages: fields.messages ?? [],
    });
    deps.logger[level](
      {
        hook,
        requestId,
        triggerId,
        traceId: trace?.traceId,
        spanId: trace?.spanId,
        ...fields,
        durationMs,
      },
      "hook call",
    );
  };
}

/**
 * The 401 for a call without a key of ours. At warn: a wrong key fails every flow, and Kratos
 * only says "got no validation errors". The key that matched none is named by a hash prefix (the
 * doctor prints the same id).
 */
async function refuseUnauthorized(authorization: string | undefined, log: CallLog): Promise<Response> {
  const sent = presentedKey(authorization);
  log(
    {
      decision: "rejected",
      status: STATUS.unauthorized,
      error: "unauthorized",
      reason: sent === undefined ? "no key sent (Authorization: Bearer <key> or Basic)" : "the key matches none of HOOKS_API_KEYS",
      ...(sent === undefined ? {} : { keyId: await maskedKeyId(sent) }),
    },
    "warn",
  );
  return errorResponse(
    "unauthorized",
    "missing or wrong credentials: send Authorization: Bearer <key>, or Basic auth with the key as password",
    null,
    {
      "www-authenticate": 'Bearer realm="kratos-hooks", Basic realm="kratos-hooks"',
    },
  );
}

/**
 * The policies' run within the time budget. The budget bounds the policies' waiting (I/O), not
 * CPU work: its timer fires only while the run waits, and the pipeline races each promise against
 * it (docs/operations.md).
 */
async function runWithinBudget(deps: HookCallDeps, ids: CallIds, input: HookInput): Promise<PipelineResult> {
  const { hook, requestId, triggerId } = ids;
  const budget = new AbortController();
  const timer = setTimeout(() => budget.abort(), deps.config.budgetMs);
  // A policy's own log lines carry the call's hook and ids, like the "hook call" line.
  const policyLogger = withFields(deps.logger, { hook, requestId, triggerId });
  return runPipeline(deps.policies, input, { signal: budget.signal, logger: policyLogger, triggerId }).finally(() => clearTimeout(timer));
}

/** The lines of a run the operator must hear of: over its time budget, or a policy's failure. */
function logTrouble(deps: HookCallDeps, ids: CallIds, result: PipelineResult, status: number): void {
  const { config, logger } = deps;
  const { hook, requestId, triggerId } = ids;
  if (result.kind === "timeout") {
    logger.warn(
      { hook, requestId, triggerId, budgetMs: config.budgetMs, failMode: answeredFailMode(result, deps.answerOptions), policy: result.by },
      "hook exceeded its time budget",
    );
  }
  if (result.kind === "failed") {
    // Loud: a bug or an outage the policy did not handle. Kratos gets the failMode answer, never a 500.
    const cause = result.error.cause instanceof Error ? result.error.cause : result.error;
    logger.error(
      {
        hook,
        requestId,
        triggerId,
        policy: result.by,
        builtIn: result.builtIn,
        failMode: answeredFailMode(result, deps.answerOptions),
        status,
        // What failed, named; `err` without a message, which pino would take for an Error and retype.
        failure: maskText(result.error.message.slice(0, 2000)),
        err: { type: cause.name, stack: maskText(cause.stack ?? cause.message) },
      },
      "policy failed",
    );
  }
}

/**
 * `/hooks/:hook`: authenticate, validate the payload, run the policies within the time budget,
 * answer as Kratos reads it, and log the call once (with its metric).
 */
export async function answerHookCall(deps: HookCallDeps, c: Context<AppEnv, "/hooks/:hook">): Promise<Response> {
  const started = performance.now();
  const hook = c.req.param("hook");
  if (!isHookId(hook)) return errorResponse("not_found", `unknown hook "${hook.slice(0, 64)}"`, null);
  if (c.req.method !== "POST") {
    return errorResponse("method_not_allowed", `use POST for /hooks/${hook}`, null, { allow: "POST" });
  }
  const requestId = requestIdOf(c.req.raw);
  c.set("requestId", requestId);
  const triggerId = triggerIdOf(c.req.raw);
  // Kratos's trace (its tracing on): the line can be found from the trace, and the trace from the line.
  const ids: CallIds = { hook, requestId, triggerId, trace: parseTraceparent(c.req.header("traceparent")) };
  const log = callLog(deps, ids, started);

  const authorization = c.req.header("authorization");
  if (!deps.authenticate(authorization)) return refuseUnauthorized(authorization, log);
  const request = await readHookRequest(hook, c.req.raw);
  if (!request.ok) {
    log({ decision: "rejected", status: request.response.status, error: request.code });
    return request.response;
  }

  const input = request.input;
  const result = await runWithinBudget(deps, ids, input);
  const kratosAnswer = toKratosResponse(input.hook, result, deps.answerOptions);
  const response = answer(kratosAnswer);
  logTrouble(deps, ids, result, response.status);
  log({
    decision: result.kind,
    status: response.status,
    policy: result.kind === "continue" ? null : result.kind === "patch" ? result.by.join(",") : result.by,
    messages: kratosAnswer.messages,
    changes: kratosAnswer.changes,
    subject: toSubject(input.identity, deps.subjectFields),
  });
  return response;
}
