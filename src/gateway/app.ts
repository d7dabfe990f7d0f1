import { type Context, Hono, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Config } from "../config/schema.js";
import { MAX_BODY_BYTES, readBody } from "../core/body.js";
import type { Logger } from "../core/logger.js";
import { type Metrics, NO_METRICS } from "../core/metrics.js";
import { resolvePhoneRegion } from "../core/phone-region.js";
import { maskText } from "../core/redact.js";
import { parseTraceparent } from "../core/trace.js";
import { SELF_SERVICE_FLOWS, type SelfServiceFlow } from "../kratos/self-service.js";
import { createFetchRuntime } from "./fetch-runtime.js";
import { GATEWAY_MARKER, toUpstreamHeaders } from "./headers.js";
import { isKratosErrorStatus, KratosHTTPException, kratosError, kratosRefusal, statusText } from "./kratos-error.js";
import type { Refusal } from "./refusals.js";
import { pathRefusal, routeTemplate } from "./routes.js";
import { type Attempt, clientKindOf, readAttempt } from "./shield/attempt.js";
import { randomSecret } from "./shield/keys.js";
import { MemoryStore } from "./shield/memory-store.js";
import type { Outcome } from "./shield/outcome.js";
import { classifyAnswer, FLOWS_FETCH, shieldRule } from "./shield/rule.js";
import { createShield, type Shield } from "./shield/shield.js";
import { bodyFormatOf, phoneFieldsOf, type RegionOf, readSubmission } from "./submission.js";
import { type GatewayRuntime, UpstreamError } from "./transport.js";

/**
 * A Hono `HTTPException` thrown by a rule (Hono's own middleware: `bearerAuth` 401, `csrf` 403,
 * `basicAuth`), as a refusal in Kratos's shape: its status, its message or the status's name, and
 * its response's headers (`WWW-Authenticate`) but the body's. Undefined for a status Kratos's
 * clients do not expect (then it is the gateway's 500).
 */
function fromHonoException(error: HTTPException): KratosHTTPException | undefined {
  if (!isKratosErrorStatus(error.status)) return undefined;
  const headers: Record<string, string> = {};
  if (error.res !== undefined) {
    for (const [name, value] of error.res.headers) {
      if (name !== "content-type" && name !== "content-length") headers[name] = value;
    }
  }
  const message = error.message.trim() === "" ? statusText(error.status) : error.message;
  return new KratosHTTPException(error.status, message, { headers });
}

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
  runtime?: GatewayRuntime;
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

/** A submission read before the rules: what to forward, or the answer when it cannot be. */
type Prepared =
  | { query: string | undefined; body: Uint8Array | undefined; rewritten: string[]; attempt: Attempt | undefined }
  | { response: Response };

/** A gateway rule: Hono middleware over the gateway's context. */
export type GatewayRule = MiddlewareHandler<GatewayEnv>;

const SUBMIT = new Map<string, SelfServiceFlow>(SELF_SERVICE_FLOWS.map((flow) => [`/self-service/${flow}`, flow]));
/**
 * The methods whose submissions Kratos reads: POST (the body, and for recovery and verification
 * the query merged over a JSON body), GET (the query: settings and verification accept a whole
 * submission there) and HEAD (v25.4+ route it to the GET handler).
 */
const SUBMITTING = new Set(["GET", "HEAD", "POST"]);

function firstOf(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

/** The last address of `X-Forwarded-For` (every header line, comma lists), or undefined. */
function lastForwardedFor(value: string | string[] | undefined): string | undefined {
  const all = [value ?? []]
    .flat()
    .flatMap((line) => line.split(","))
    .map((part) => part.trim())
    .filter((part) => part !== "");
  return all.at(-1);
}

/** `/path` and `query` (without `?`) of a request URL (`http://host/path?query`), without parsing the whole URL. */
function pathAndQuery(url: string): { path: string; query: string | undefined } {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  const target = slash < 0 ? "/" : url.slice(slash);
  const mark = target.indexOf("?");
  return mark < 0 ? { path: target, query: undefined } : { path: target.slice(0, mark), query: target.slice(mark + 1) };
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
  const { config, logger } = options;
  const runtime = options.runtime ?? createFetchRuntime();
  const metrics = options.metrics ?? NO_METRICS;
  const base = options.upstream.href.replace(/\/$/, "");
  const rewriting = config.normalizePhone.enabled;
  const { upstreamTimeoutMs, trustForwardedHeaders, regionFromClientCountry } = config.gateway;
  const regionHeader = config.normalizePhone.regionHeader?.toLowerCase() ?? null;
  const fieldsOf = new Map(SELF_SERVICE_FLOWS.map((flow) => [flow, phoneFieldsOf(flow, config.normalizePhone.fields)]));
  const shieldConfig = config.gateway.shield;
  const shield =
    options.shield === false || !shieldConfig.enabled
      ? undefined
      : (options.shield ??
        createShield({
          config: shieldConfig,
          store: new MemoryStore(),
          secret: randomSecret(),
          allowedCountries: config.normalizePhone.allowedCountries,
          deniedCountries: config.normalizePhone.deniedCountries,
        }));
  // Submissions are read when something needs them: the phone rewriting, or the shield.
  const reading = rewriting || shield !== undefined;
  const app = new Hono<GatewayEnv>();

  // First of all, before any rule: a request Kratos could read differently from the gateway (its
  // framing, its path) is refused, so that rules and the forwarding see the one reading.
  const guard = (c: Context<GatewayEnv>, path = pathAndQuery(c.req.url).path): Response | undefined => {
    const refusal = runtime.framingRefusal?.(c) ?? pathRefusal(path);
    if (refusal === undefined) return undefined;
    const route = routeTemplate(c.req.path);
    metrics.gatewayRequest({ route, status: 400, rewritten: false, durationMs: 0, refusal });
    logger.info({ method: c.req.method, route, status: 400, refusal }, "gateway request");
    return kratosRefusal(refusal);
  };
  const clientAddressOf = (c: Context<GatewayEnv>) => {
    const peer = runtime.peer(c).address;
    return trustForwardedHeaders ? (lastForwardedFor(runtime.headers(c)["x-forwarded-for"]) ?? peer) : peer;
  };
  /** The log line and metric of one request through the forwarding. */
  const logRequest = (c: Context<GatewayEnv>, since: number, status: number, rewritten: string[], extra?: Record<string, unknown>) => {
    const durationMs = Math.round((performance.now() - since) * 100) / 100;
    const route = routeTemplate(c.req.path);
    const refusal = extra?.refusal as Refusal | undefined;
    const trace = parseTraceparent(firstOf(runtime.headers(c).traceparent));
    metrics.gatewayRequest({ route, status, rewritten: rewritten.length > 0, durationMs, ...(refusal && { refusal }) });
    logger.info(
      { method: c.req.method, route, status, rewritten, traceId: trace?.traceId, spanId: trace?.spanId, ...extra, durationMs },
      "gateway request",
    );
  };

  /**
   * Reads a self-service submission once (the body, the phone rewriting, the attempt), before the
   * rules when there are any; any other request passes as it came.
   */
  const prepare = async (c: Context<GatewayEnv>, since: number): Promise<Prepared> => {
    const known = c.get("prepared");
    if (known !== undefined) return known;
    const method = c.req.method;
    const target = pathAndQuery(c.req.url);
    // The decoded path: every Kratos decodes `/self-service/%6cogin` to the login route (./routes.ts).
    const flow = reading && SUBMITTING.has(method) ? SUBMIT.get(c.req.path) : undefined;
    let prepared: Prepared;
    if (flow === undefined) prepared = { query: target.query, body: undefined, rewritten: [], attempt: undefined };
    else prepared = await readFlowSubmission(c, since, flow, target.query);
    c.set("prepared", prepared);
    if ("attempt" in prepared) c.set("attempt", prepared.attempt);
    return prepared;
  };
  const readFlowSubmission = async (
    c: Context<GatewayEnv>,
    since: number,
    flow: SelfServiceFlow,
    query: string | undefined,
  ): Promise<Prepared> => {
    const incoming = runtime.headers(c);
    const format = c.req.method === "POST" ? bodyFormatOf(firstOf(incoming["content-type"])) : undefined;
    if (format === "content_type_list" || format === "multipart") {
      logRequest(c, since, 400, [], { refusal: format });
      return { response: kratosRefusal(format) };
    }
    let bytes: Uint8Array | undefined;
    if (format !== undefined) {
      const read = await readBody(c.req.raw, MAX_BODY_BYTES);
      if (!read.ok) {
        logRequest(c, since, 413, [], { error: "payload_too_large" });
        return { response: kratosError(413, `The request body exceeds ${MAX_BODY_BYTES} bytes.`) };
      }
      bytes = read.bytes;
    }
    const header = regionHeader === null ? undefined : (firstOf(incoming[regionHeader]) ?? undefined);
    const clientCountry = regionFromClientCountry ? runtime.clientCountry?.(c) : undefined;
    let region: ReturnType<RegionOf> | undefined;
    const regionOf: RegionOf = (picked) => {
      region = resolvePhoneRegion({ picked, header, clientCountry }, config.normalizePhone);
      return region;
    };
    const fields = rewriting ? (fieldsOf.get(flow) ?? new Set<string>()) : new Set<string>();
    const submission = readSubmission({ query: query ?? "", fields, ...(format && bytes && { body: { format, bytes } }) }, regionOf);
    if (!submission.ok) {
      logRequest(c, since, 400, [], { refusal: submission.refusal });
      return { response: kratosRefusal(submission.refusal) };
    }
    const attempt =
      shield === undefined
        ? undefined
        : readAttempt({
            flow,
            flowId: new URLSearchParams(query ?? "").get("flow") ?? undefined,
            fields: submission.fields,
            phoneTraits: config.normalizePhone.fields,
            region: (region ?? regionOf(undefined)).region,
            clientAddress: c.get("clientAddress") ?? clientAddressOf(c),
            clientKind: clientKindOf(firstOf(incoming["content-type"]) ?? undefined, firstOf(incoming.accept) ?? undefined),
          });
    return { query: query === undefined ? undefined : submission.query, body: submission.body, rewritten: submission.rewritten, attempt };
  };

  const shieldMiddleware =
    shield === undefined ? undefined : shieldRule({ shield, config: shieldConfig, trustForwardedHeaders, runtime, base, logger, metrics });
  const userRules = options.rules ?? [];
  // With rules of your own, the chain below runs in front of them (the shield first). Without (the
  // shipped service), the shield runs around the forwarding of what it reads only: a request
  // through the gateway pays for no middleware it does not need.
  const chained = userRules.length > 0;
  if (chained) app.use("*", async (c, next) => guard(c) ?? next());

  // Before the rules: the client's address and the submission for them, and a log line for what
  // a rule answers.
  if (chained)
    app.use("*", async (c, next) => {
      const since = performance.now();
      c.set("clientAddress", clientAddressOf(c));
      c.set("forwarded", false);
      const prepared = await prepare(c, since);
      if ("response" in prepared) return prepared.response;
      await next();
      if (c.get("forwarded")) return;
      logAnsweredByRule(c, since);
    });
  if (chained) for (const rule of [...(shieldMiddleware === undefined ? [] : [shieldMiddleware]), ...userRules]) app.use("*", rule);

  const logAnsweredByRule = (c: Context<GatewayEnv>, since: number) => {
    const durationMs = Math.round((performance.now() - since) * 100) / 100;
    const route = routeTemplate(c.req.path);
    metrics.gatewayRequest({ route, status: c.res.status, rewritten: false, durationMs });
    logger.info({ method: c.req.method, route, status: c.res.status, answeredBy: "rule", durationMs }, "gateway request");
  };

  app.all("*", async (c) => {
    const since = performance.now();
    if (chained || shieldMiddleware === undefined) {
      if (!chained) {
        const refused = guard(c);
        if (refused !== undefined) return refused;
      }
      return forwarding(c, since);
    }
    const refused = guard(c);
    if (refused !== undefined) return refused;
    const prepared = await prepare(c, since);
    if ("response" in prepared) return prepared.response;
    if (prepared.attempt === undefined && !(c.req.method === "GET" && FLOWS_FETCH.test(c.req.path))) return forwarding(c, since);
    // The shield, the same rule as in the chain, around the forwarding.
    c.set("forwarded", false);
    const answered = await shieldMiddleware(c, async () => {
      c.res = await forwarding(c, since);
    });
    if (answered instanceof Response) {
      c.res = answered;
      logAnsweredByRule(c, since);
    }
    return c.res;
  });

  /** Forwards the request to Kratos, the submission as read, and returns Kratos's answer. */
  const forwarding = async (c: Context<GatewayEnv>, since: number): Promise<Response> => {
    const target = pathAndQuery(c.req.url);
    c.set("forwarded", true);
    // The body goes to Kratos as it came (on Node straight from the socket): a rule that read it
    // (c.req.json(), text(), parseBody()) would leave nothing to forward. A bug, said as one.
    if (Object.keys(c.req.bodyCache).length > 0) {
      throw new Error("a gateway rule read the request body; rules may read the method, path, query, headers and client address only");
    }
    const method = c.req.method;
    const incoming = runtime.headers(c);
    if (incoming[GATEWAY_MARKER] !== undefined) {
      logRequest(c, since, 508, [], { error: "loop" });
      return kratosError(508, "This request has already passed through the kratos-hooks gateway: GATEWAY_KRATOS_URL points back at it.");
    }
    const prepared = await prepare(c, since);
    if ("response" in prepared) return prepared.response;
    const { query, body, rewritten, attempt } = prepared;

    const headers = toUpstreamHeaders(incoming, runtime.peer(c), trustForwardedHeaders);
    const url = `${base}${target.path}${query === undefined ? "" : `?${query}`}`;
    try {
      const response = await runtime.forward({ method, url, headers, body, timeoutMs: upstreamTimeoutMs }, c);
      logRequest(c, since, response.status, rewritten);
      if (attempt !== undefined) {
        let outcome: Promise<Outcome> | undefined;
        c.set("outcome", () => {
          outcome ??= classifyAnswer(response, attempt, { runtime, base, headers, timeoutMs: upstreamTimeoutMs, c });
          return outcome;
        });
      }
      return response;
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      const status = error.kind === "timeout" ? 504 : error.kind === "aborted" ? 499 : 502;
      logRequest(c, since, status, rewritten, { error: error.kind, detail: error.detail });
      if (error.kind === "timeout") return kratosError(504, `Kratos did not answer within ${upstreamTimeoutMs} ms.`);
      // Nobody reads the answer to an aborted request; it is a 502 for the record.
      return kratosError(502, "Kratos could not be reached. Please try again later.");
    }
  };

  app.onError((error, c) => {
    // A rule's refusal, thrown: answered in Kratos's shape. Hono's own HTTPException the same way.
    const refusal = error instanceof KratosHTTPException ? error : error instanceof HTTPException ? fromHonoException(error) : undefined;
    if (refusal !== undefined) {
      logger.info(
        { method: c.req.method, route: routeTemplate(c.req.path), status: refusal.status, reason: refusal.reason },
        "gateway rule refused the request",
      );
      return refusal.getResponse();
    }
    const requestId = crypto.randomUUID();
    logger.error(
      {
        requestId,
        method: c.req.method,
        route: routeTemplate(c.req.path),
        status: 500,
        err: { type: error.name, stack: maskText(error.stack ?? error.message) },
      },
      "gateway internal error",
    );
    return kratosError(500, `Internal error in the gateway (request ${requestId}).`);
  });
  return app;
}
