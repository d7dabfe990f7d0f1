import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { Config } from "../config/schema.js";
import type { Logger } from "../core/logger.js";
import type { Metrics } from "../core/metrics.js";
import { clientAddressOf, type GetConnInfo } from "./conn-info.js";
import { type GatewayDeps, gatewayDeps } from "./deps.js";
import { gatewayErrorHandler } from "./error-handler.js";
import { forward } from "./forwarding.js";
import { type Prepared, prepare } from "./prepare.js";
import { logAnsweredByRule, logRefused } from "./request-log.js";
import type { Attempt } from "./shield/attempt.js";
import type { Outcome } from "./shield/outcome.js";
import { FLOWS_FETCH, shieldRule } from "./shield/rule.js";
import type { Shield } from "./shield/shield.js";
import type { GatewayTransport } from "./transport.js";

/** What `createGateway` takes. */
export interface GatewayOptions {
  config: Config;
  /** Kratos's own public address (`GATEWAY_KRATOS_URL`), e.g. `http://127.0.0.1:4433`. */
  upstream: URL;
  logger: Logger;
  /**
   * @internal Not public API: how requests reach Kratos. Unset: `fetch` (the Workers transport).
   * `serve()` passes Node's, which reads the client's bytes itself to refuse ambiguous framing
   * (docs/library.md#the-gateways-transport-is-not-public).
   */
  runtime?: GatewayTransport;
  /**
   * @internal Not public API: who the client is (address, scheme, Host, country), one per
   * adapter like Hono's `getConnInfo`. Unset: Cloudflare's (`CF-Connecting-IP`, `request.cf`) on
   * Workers, elsewhere no address (`getDefaultConnInfo`); `serve()` passes Node's, from the socket.
   */
  connInfo?: GetConnInfo;
  /** Counts each request (Prometheus on Node); none by default. */
  metrics?: Metrics;
  /**
   * Your own rules, as Hono middleware, run in order before anything is forwarded: answer to
   * refuse (`kratosErrorResponse(429, …)`), or `await next()` to let the request through.
   * `c.get("clientAddress")` is the client's IP address. A rule reads the method, path, query
   * and headers, never the body: the body is forwarded as it came, and a rule that read it is
   * answered 500 as a bug.
   */
  rules?: readonly GatewayRule[];
  /**
   * The shield (login protection and SMS budgets, docs/shield.md), run as the first rule when
   * `gateway.shield.enabled`: by default on the embedded memory store with a secret of this
   * process's own; pass one built with `createShield` for another store; `false` for none.
   */
  shield?: Shield | false;
}

/** What the gateway's rules read from the context: `c.get("clientAddress")`. */
export type GatewayEnv = {
  Variables: {
    /**
     * The client's IP address: the connection's peer on Node, `CF-Connecting-IP` on Workers;
     * with `gateway.trustForwardedHeaders`, the address the trusted proxy appended last to
     * `X-Forwarded-For` (entries before it are the client's say-so). Undefined when unknown.
     */
    clientAddress: string | undefined;
    /** Set once the request reached the forwarding (not answered by a rule). */
    forwarded: boolean;
    /**
     * A self-service submission as Kratos will read it (flow, method, the normalized identifier,
     * where a code goes): undefined for any other request. Read-only.
     */
    attempt: Attempt | undefined;
    /**
     * After `await next()`, for an attempt that was forwarded: what Kratos's answer means
     * (success, code sent, credential failure, other), read once when first asked.
     */
    outcome: (() => Promise<Outcome>) | undefined;
    /** @internal The submission as read, for the forwarding. */
    prepared: Prepared | undefined;
  };
};

/** A gateway rule: Hono middleware over the gateway's context. */
export type GatewayRule = MiddlewareHandler<GatewayEnv>;

/**
 * A request Kratos could read differently from the gateway (its framing, its path) is refused
 * first of all, before any rule, so that rules and the forwarding see the one reading.
 */
function refused(deps: GatewayDeps, c: Context<GatewayEnv>): Response | undefined {
  const stopped = deps.checks.refusal(c);
  if (stopped === undefined) return undefined;
  logRefused(deps, c, stopped.response.status, stopped.why.refusal);
  return stopped.response;
}

/**
 * In front of your rules: the client's address and the submission for them, and a log line for
 * what a rule answers.
 */
function beforeRules(deps: GatewayDeps): GatewayRule {
  return async (c, next) => {
    const since = performance.now();
    c.set("clientAddress", clientAddressOf(c, deps, deps.config.gateway.trustForwardedHeaders));
    c.set("forwarded", false);
    const prepared = await prepare(deps, c, since);
    if ("response" in prepared) return prepared.response;
    await next();
    if (c.get("forwarded")) return;
    logAnsweredByRule(deps, c, since);
  };
}

/**
 * Without rules of your own: the shield, the same rule as in the chain, around the forwarding of
 * what it reads only (a submission, or a flow fetched by its UI); anything else is forwarded.
 */
async function shieldAround(deps: GatewayDeps, shield: GatewayRule, c: Context<GatewayEnv>, since: number): Promise<Response> {
  const refusal = refused(deps, c);
  if (refusal !== undefined) return refusal;
  const prepared = await prepare(deps, c, since);
  if ("response" in prepared) return prepared.response;
  if (prepared.attempt === undefined && !(c.req.method === "GET" && FLOWS_FETCH.test(c.req.path))) return forward(deps, c, since);
  c.set("forwarded", false);
  const answered = await shield(c, async () => {
    c.res = await forward(deps, c, since);
  });
  if (answered instanceof Response) {
    c.res = answered;
    logAnsweredByRule(deps, c, since);
  }
  return c.res;
}

/**
 * The gateway in front of Kratos's public API, the same on every runtime. Every path is Kratos's:
 * a request is forwarded as it came (method, path, query, headers, body), and Kratos's answer
 * returned as it left Kratos (status, headers, every Set-Cookie and Location), except that
 * self-service submissions have their phone fields rewritten to E.164 (`./submission.ts`), and
 * the shield (`./shield/`) may refuse a login or code-sending submission before Kratos sees it,
 * and adds its device marker to a successful login's answer. The gateway's own answers (400, 413,
 * 502, 504, 508, 500, the shield's) are in Kratos's shapes.
 *
 * ```ts
 * import { createConsoleLogger, createGateway, parseConfig } from "kratos-hooks";
 * const gateway = createGateway({ config: parseConfig(), upstream: new URL("http://127.0.0.1:4433"), logger: createConsoleLogger("info"), rules: [blockBots] });
 * const response = await gateway.fetch(request);
 * ```
 */
export function createGateway(options: GatewayOptions): Hono<GatewayEnv> {
  const deps = gatewayDeps(options);
  const { shield, config } = deps;
  const shieldMiddleware =
    shield === undefined
      ? undefined
      : shieldRule({
          shield,
          config: config.gateway.shield,
          trustForwardedHeaders: config.gateway.trustForwardedHeaders,
          transport: deps.transport,
          connInfo: deps.connInfo,
          base: deps.base,
          logger: deps.logger,
          metrics: deps.metrics,
        });
  const userRules = options.rules ?? [];
  const app = new Hono<GatewayEnv>();
  // With rules of your own, the chain below runs in front of them (the shield first). Without (the
  // shipped service), the shield runs around the forwarding of what it reads only: a request
  // through the gateway pays for no middleware it does not need.
  if (userRules.length > 0) {
    app.use("*", async (c, next) => refused(deps, c) ?? next());
    app.use("*", beforeRules(deps));
    for (const rule of [...(shieldMiddleware === undefined ? [] : [shieldMiddleware]), ...userRules]) app.use("*", rule);
    app.all("*", async (c) => forward(deps, c, performance.now()));
  } else if (shieldMiddleware === undefined) {
    app.all("*", async (c) => {
      const since = performance.now();
      return refused(deps, c) ?? forward(deps, c, since);
    });
  } else {
    app.all("*", async (c) => shieldAround(deps, shieldMiddleware, c, performance.now()));
  }
  app.onError(gatewayErrorHandler(deps.logger));
  return app;
}
