import { Hono } from "hono";
import type { Config } from "../config/schema.js";
import { isHookId } from "../core/hooks.js";
import { type Logger, withFields } from "../core/logger.js";
import { type Metrics, NO_METRICS } from "../core/metrics.js";
import { runPipeline } from "../core/pipeline.js";
import { createPolicies, warmUp } from "../core/policies/index.js";
import type { Policy } from "../core/policy.js";
import { maskText } from "../core/redact.js";
import { type SubjectFields, toSubject } from "../core/subject.js";
import { parseTraceparent } from "../core/trace.js";
import { type KratosAnswer, toKratosResponse } from "../kratos/response.js";
import { createAuthenticator, maskedKeyId, presentedKey } from "./auth.js";
import { errorResponse } from "./errors.js";
import { readHookRequest } from "./read-hook-request.js";

/** What `createApp` takes. */
export interface AppOptions {
  config: Config;
  apiKeys: readonly string[];
  logger: Logger;
  /** Counts each call (Prometheus on Node); none by default. */
  metrics?: Metrics;
  /**
   * The policies to run, in order. Unset: the built-in ones the configuration turns on
   * (`builtInPolicies(config)`); yours usually go after them: `[...builtInPolicies(config), mine]`.
   */
  policies?: readonly Policy[];
}

function answer(result: KratosAnswer): Response {
  if (result.body === null) return new Response(null, { status: result.status });
  return new Response(result.body, { status: result.status, headers: { "content-type": "application/json; charset=utf-8" } });
}

/** Kratos's per-attempt id when sent and well-formed, else our own. */
function requestIdOf(request: Request): string {
  const sent = request.headers.get("ory-webhook-request-id");
  return sent !== null && /^[A-Za-z0-9._-]{1,128}$/.test(sent) ? sent : crypto.randomUUID();
}

// Kratos sends a UUID (`request/builder.go`, v25.4+); a short token of letters, digits and
// hyphens is accepted too. Anything else is dropped, never logged or handed to a policy raw.
const TRIGGER_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Kratos's `Ory-Webhook-Trigger-ID` when sent and well-formed: one id per hook execution, the
 * same on each retry (sent only while the web_hook's `emit_analytics_event` is on, the default).
 */
function triggerIdOf(request: Request): string | undefined {
  const sent = request.headers.get("ory-webhook-trigger-id");
  return sent !== null && TRIGGER_ID.test(sent) ? sent : undefined;
}

/** Per-request values: the request id, so the error handler logs the same id the answer names. */
export type AppEnv = { Variables: { requestId: string } };

/**
 * The whole service as a Hono app, the same on every runtime: authenticate, validate the
 * payload, run the policies within the time budget, answer as Kratos reads it.
 *
 * ```ts
 * import { builtInPolicies, createApp, createConsoleLogger, parseConfig } from "kratos-hooks";
 * const config = parseConfig({ normalizePhone: { defaultRegion: "DE" } });
 * const app = createApp({ config, apiKeys: [apiKey], logger: createConsoleLogger("info"), policies: [...builtInPolicies(config), inviteOnly] });
 * const response = await app.fetch(request);
 * ```
 */
export function createApp(options: AppOptions): Hono<AppEnv> {
  const { config, logger } = options;
  const metrics = options.metrics ?? NO_METRICS;
  const policies = options.policies ?? createPolicies(config);
  warmUp();
  const authenticate = createAuthenticator(options.apiKeys);
  const subjectFields: SubjectFields = { phone: config.normalizePhone.fields, email: config.denyRules.emailTraits };
  const answerOptions = { failMode: config.failMode };
  const app = new Hono<AppEnv>();

  app.get("/health", (c) => c.json({ status: "ok" }));

  app.all("/hooks/:hook", async (c) => {
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
    const trace = parseTraceparent(c.req.header("traceparent"));
    const log = (
      fields: { decision: string; status: number; messages?: readonly string[]; policy?: string | null } & Record<string, unknown>,
      level: "info" | "warn" = "info",
    ) => {
      const durationMs = Math.round((performance.now() - started) * 100) / 100;
      metrics.hookCall({
        hook,
        decision: fields.decision,
        status: fields.status,
        durationMs,
        policy: fields.policy ?? null,
        messages: fields.messages ?? [],
      });
      logger[level](
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
    const reject = (response: Response, code: string) => {
      log({ decision: "rejected", status: response.status, error: code });
      return response;
    };

    const authorization = c.req.header("authorization");
    if (!authenticate(authorization)) {
      // At warn: a wrong key fails every flow, and Kratos only says "got no validation errors".
      // The key that matched none is named by a hash prefix (the doctor prints the same id).
      const sent = presentedKey(authorization);
      log(
        {
          decision: "rejected",
          status: 401,
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
    const request = await readHookRequest(hook, c.req.raw);
    if (!request.ok) return reject(request.response, request.code);

    const input = request.input;
    // The budget bounds the policies' waiting (I/O), not CPU work: its timer fires only while the
    // run waits, and the pipeline races each promise against it (docs/operations.md).
    const budget = new AbortController();
    const timer = setTimeout(() => budget.abort(), config.budgetMs);
    // A policy's own log lines carry the call's hook and ids, like the "hook call" line.
    const policyLogger = withFields(logger, { hook, requestId, triggerId });
    const result = await runPipeline(policies, input, { signal: budget.signal, logger: policyLogger, triggerId }).finally(() =>
      clearTimeout(timer),
    );
    const kratosAnswer = toKratosResponse(input.hook, result, answerOptions);
    const response = answer(kratosAnswer);
    if (result.kind === "timeout") {
      logger.warn(
        { hook, requestId, triggerId, budgetMs: config.budgetMs, failMode: result.failMode ?? config.failMode, policy: result.by },
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
          failMode: result.failMode ?? config.failMode,
          status: response.status,
          // What failed, named; `err` without a message, which pino would take for an Error and retype.
          failure: maskText(result.error.message.slice(0, 2000)),
          err: { type: cause.name, stack: maskText(cause.stack ?? cause.message) },
        },
        "policy failed",
      );
    }
    log({
      decision: result.kind,
      status: response.status,
      policy: result.kind === "continue" ? null : result.kind === "patch" ? result.by.join(",") : result.by,
      messages: kratosAnswer.messages,
      changes: kratosAnswer.changes,
      subject: toSubject(input.identity, subjectFields),
    });
    return response;
  });

  app.all("/health", () => errorResponse("method_not_allowed", "use GET for /health", null, { allow: "GET, HEAD" }));
  app.notFound((c) => errorResponse("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname.slice(0, 128)}`));
  app.onError((error, c) => {
    const requestId = c.get("requestId") ?? requestIdOf(c.req.raw);
    logger.error(
      {
        requestId,
        path: c.req.path,
        decision: "error",
        status: 500,
        err: { type: error.name, stack: maskText(error.stack ?? error.message) },
      },
      "internal error",
    );
    return errorResponse("internal_error", `internal error (request ${requestId})`);
  });
  return app;
}
