import { type Context, Hono, type MiddlewareHandler } from "hono";
import type { Config } from "../config/schema.js";
import { MAX_BODY_BYTES, readBody } from "../core/body.js";
import type { Logger } from "../core/logger.js";
import { type Metrics, NO_METRICS } from "../core/metrics.js";
import { resolvePhoneRegion } from "../core/phone-region.js";
import { maskText } from "../core/redact.js";
import { parseTraceparent } from "../core/trace.js";
import { GATEWAY_MARKER, toUpstreamHeaders } from "./headers.js";
import { kratosError, kratosRefusal } from "./kratos-error.js";
import type { Refusal } from "./refusals.js";
import { pathRefusal, routeTemplate } from "./routes.js";
import { bodyFormatOf, phoneFieldsOf, type RegionOf, readSubmission, SELF_SERVICE_FLOWS, type SelfServiceFlow } from "./submission.js";
import { type GatewayRuntime, UpstreamError } from "./transport.js";

/** What `createGateway` takes. */
export interface GatewayOptions {
  config: Config;
  /** Kratos's own public address (`GATEWAY_KRATOS_URL`), e.g. `http://127.0.0.1:4433`. */
  upstream: URL;
  logger: Logger;
  runtime: GatewayRuntime;
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
  };
};

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
 * self-service submissions have their phone fields rewritten to E.164 (`./rewrite.ts`).
 * The gateway's own answers (413, 502, 504, 508, 500) are in Kratos's error shape.
 */
export function createGateway(options: GatewayOptions): Hono<GatewayEnv> {
  const { config, logger, runtime } = options;
  const metrics = options.metrics ?? NO_METRICS;
  const base = options.upstream.href.replace(/\/$/, "");
  const rewriting = config.normalizePhone.enabled;
  const { upstreamTimeoutMs, trustForwardedHeaders, regionFromClientCountry } = config.gateway;
  const regionHeader = config.normalizePhone.regionHeader?.toLowerCase() ?? null;
  const fieldsOf = new Map(SELF_SERVICE_FLOWS.map((flow) => [flow, phoneFieldsOf(flow, config.normalizePhone.fields)]));
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
  const rules = options.rules ?? [];
  // With rules, in front of them; without (the shipped service), at the start of the forwarding.
  if (rules.length > 0) app.use("*", async (c, next) => guard(c) ?? next());

  // Before the rules: the client's address for them, and a log line for what a rule answers.
  // Without rules (the shipped service) none of this runs on the forwarding path.
  if (rules.length > 0)
    app.use("*", async (c, next) => {
      const started = performance.now();
      const peer = runtime.peer(c).address;
      c.set("clientAddress", trustForwardedHeaders ? (lastForwardedFor(runtime.headers(c)["x-forwarded-for"]) ?? peer) : peer);
      c.set("forwarded", false);
      await next();
      if (c.get("forwarded")) return;
      const durationMs = Math.round((performance.now() - started) * 100) / 100;
      const route = routeTemplate(c.req.path);
      metrics.gatewayRequest({ route, status: c.res.status, rewritten: false, durationMs });
      logger.info({ method: c.req.method, route, status: c.res.status, answeredBy: "rule", durationMs }, "gateway request");
    });
  for (const rule of rules) app.use("*", rule);

  app.all("*", async (c) => {
    const target = pathAndQuery(c.req.url);
    if (rules.length === 0) {
      const refused = guard(c, target.path);
      if (refused !== undefined) return refused;
    }
    c.set("forwarded", true);
    // The body goes to Kratos as it came (on Node straight from the socket): a rule that read it
    // (c.req.json(), text(), parseBody()) would leave nothing to forward. A bug, said as one.
    if (Object.keys(c.req.bodyCache).length > 0) {
      throw new Error("a gateway rule read the request body; rules may read the method, path, query, headers and client address only");
    }
    const started = performance.now();
    const method = c.req.method;
    const path = c.req.path;
    let rewritten: string[] = [];
    // One header record from the runtime (on Node the socket's own, no web Headers object built).
    const incoming = runtime.headers(c);
    const trace = parseTraceparent(firstOf(incoming.traceparent));
    const log = (status: number, extra?: Record<string, unknown>) => {
      const durationMs = Math.round((performance.now() - started) * 100) / 100;
      const route = routeTemplate(path);
      const refusal = extra?.refusal as Refusal | undefined;
      metrics.gatewayRequest({ route, status, rewritten: rewritten.length > 0, durationMs, ...(refusal && { refusal }) });
      logger.info(
        { method, route, status, rewritten, traceId: trace?.traceId, spanId: trace?.spanId, ...extra, durationMs },
        "gateway request",
      );
    };

    if (incoming[GATEWAY_MARKER] !== undefined) {
      log(508, { error: "loop" });
      return kratosError(508, "This request has already passed through the kratos-hooks gateway: GATEWAY_KRATOS_URL points back at it.");
    }

    let query = target.query;
    let body: Uint8Array | undefined;
    const flow = rewriting && SUBMITTING.has(method) ? SUBMIT.get(path) : undefined;
    if (flow !== undefined) {
      const format = method === "POST" ? bodyFormatOf(firstOf(incoming["content-type"])) : undefined;
      if (format === "content_type_list" || format === "multipart") {
        log(400, { refusal: format });
        return kratosRefusal(format);
      }
      let bytes: Uint8Array | undefined;
      if (format !== undefined) {
        const read = await readBody(c.req.raw, MAX_BODY_BYTES);
        if (!read.ok) {
          log(413, { error: "payload_too_large" });
          return kratosError(413, `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
        }
        bytes = read.bytes;
      }
      const header = regionHeader === null ? undefined : (firstOf(incoming[regionHeader]) ?? undefined);
      const clientCountry = regionFromClientCountry ? runtime.clientCountry?.(c) : undefined;
      const regionOf: RegionOf = (picked) => resolvePhoneRegion({ picked, header, clientCountry }, config.normalizePhone);
      const fields = fieldsOf.get(flow) ?? new Set<string>();
      const submission = readSubmission({ query: query ?? "", fields, ...(format && bytes && { body: { format, bytes } }) }, regionOf);
      if (!submission.ok) {
        log(400, { refusal: submission.refusal });
        return kratosRefusal(submission.refusal);
      }
      body = submission.body;
      if (query !== undefined) query = submission.query;
      rewritten = submission.rewritten;
    }

    const headers = toUpstreamHeaders(incoming, runtime.peer(c), trustForwardedHeaders);
    const url = `${base}${target.path}${query === undefined ? "" : `?${query}`}`;
    try {
      const response = await runtime.forward({ method, url, headers, body, timeoutMs: upstreamTimeoutMs }, c);
      log(response.status);
      return response;
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      const status = error.kind === "timeout" ? 504 : error.kind === "aborted" ? 499 : 502;
      log(status, { error: error.kind, detail: error.detail });
      if (error.kind === "timeout") return kratosError(504, `Kratos did not answer within ${upstreamTimeoutMs} ms.`);
      // Nobody reads the answer to an aborted request; it is a 502 for the record.
      return kratosError(502, "Kratos could not be reached. Please try again later.");
    }
  });

  app.onError((error, c) => {
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
