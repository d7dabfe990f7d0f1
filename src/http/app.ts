import { Hono } from "hono";
import type { Config } from "../config/schema.js";
import { STATUS } from "../core/http-status.js";
import type { Logger } from "../core/logger.js";
import { type Metrics, NO_METRICS } from "../core/metrics.js";
import { createPolicies, warmUp } from "../core/policies/index.js";
import type { Policy } from "../core/policy.js";
import { maskText } from "../core/redact.js";
import { createAuthenticator } from "./auth.js";
import { errorResponse } from "./errors.js";
import { answerHookCall, type HookCallDeps } from "./hook-call.js";
import { requestIdOf } from "./request-ids.js";

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
  const deps: HookCallDeps = {
    config,
    logger,
    metrics,
    policies,
    authenticate: createAuthenticator(options.apiKeys),
    subjectFields: { phone: config.normalizePhone.fields, email: config.denyRules.emailTraits },
    answerOptions: { failMode: config.failMode },
  };
  const app = new Hono<AppEnv>();

  app.get("/health", (c) => c.json({ status: "ok" }));

  app.all("/hooks/:hook", (c) => answerHookCall(deps, c));

  app.all("/health", () => errorResponse("method_not_allowed", "use GET for /health", null, { allow: "GET, HEAD" }));
  app.notFound((c) => errorResponse("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname.slice(0, 128)}`));
  app.onError((error, c) => {
    const requestId = c.get("requestId") ?? requestIdOf(c.req.raw);
    logger.error(
      {
        requestId,
        path: c.req.path,
        decision: "error",
        status: STATUS.internalError,
        err: { type: error.name, stack: maskText(error.stack ?? error.message) },
      },
      "internal error",
    );
    return errorResponse("internal_error", `internal error (request ${requestId})`);
  });
  return app;
}
