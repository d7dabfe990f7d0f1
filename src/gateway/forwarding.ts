import type { Context } from "hono";
import { STATUS } from "../core/http-status.js";
import type { GatewayEnv } from "./app.js";
import { peerOf } from "./conn-info.js";
import type { GatewayDeps } from "./deps.js";
import { toUpstreamHeaders } from "./headers.js";
import { kratosError } from "./kratos-error.js";
import { prepare } from "./prepare.js";
import { logRequest } from "./request-log.js";
import { pathAndQuery } from "./request-target.js";
import type { Attempt } from "./shield/attempt.js";
import type { Outcome } from "./shield/outcome.js";
import { classifyAnswer } from "./shield/rule.js";
import { UpstreamError } from "./transport.js";

/** Forwards the request to Kratos, the submission as read, and returns Kratos's answer. */
export async function forward(deps: GatewayDeps, c: Context<GatewayEnv>, since: number): Promise<Response> {
  const target = pathAndQuery(c.req.url);
  c.set("forwarded", true);
  // The body goes to Kratos as it came (on Node straight from the socket): a rule that read it
  // (c.req.json(), text(), parseBody()) would leave nothing to forward. A bug, said as one.
  if (Object.keys(c.req.bodyCache).length > 0) {
    throw new Error("a gateway rule read the request body; rules may read the method, path, query, headers and client address only");
  }
  const method = c.req.method;
  const incoming = deps.transport.headers(c);
  const looped = deps.checks.loop(c, incoming);
  if (looped !== undefined) {
    logRequest(deps, c, since, looped.response.status, [], looped.why);
    return looped.response;
  }
  const prepared = await prepare(deps, c, since);
  if ("response" in prepared) return prepared.response;
  const { query, body, rewritten, attempt } = prepared;

  const { trustForwardedHeaders, upstreamTimeoutMs } = deps.config.gateway;
  const headers = toUpstreamHeaders(incoming, peerOf(deps.connInfo(c)), trustForwardedHeaders);
  const url = `${deps.base}${target.path}${query === undefined ? "" : `?${query}`}`;
  try {
    const response = await deps.transport.forward({ method, url, headers, body, timeoutMs: upstreamTimeoutMs }, c);
    logRequest(deps, c, since, response.status, rewritten);
    if (attempt !== undefined) offerOutcome(deps, c, response, attempt, headers);
    return response;
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    return upstreamFailure(deps, c, since, rewritten, error);
  }
}

/** `c.get("outcome")` for a forwarded attempt: what Kratos's answer means, read once when first asked. */
function offerOutcome(
  deps: GatewayDeps,
  c: Context<GatewayEnv>,
  response: Response,
  attempt: Attempt,
  headers: Record<string, string | string[]>,
) {
  const timeoutMs = deps.config.gateway.upstreamTimeoutMs;
  let outcome: Promise<Outcome> | undefined;
  c.set("outcome", () => {
    outcome ??= classifyAnswer(response, attempt, { transport: deps.transport, base: deps.base, headers, timeoutMs, c });
    return outcome;
  });
}

/** Kratos unreachable (502) or too slow (504), or the client gone (logged 499): logged, and answered in Kratos's shape. */
function upstreamFailure(deps: GatewayDeps, c: Context, since: number, rewritten: string[], error: UpstreamError): Response {
  const status = error.kind === "timeout" ? STATUS.gatewayTimeout : error.kind === "aborted" ? STATUS.clientClosed : STATUS.badGateway;
  logRequest(deps, c, since, status, rewritten, { error: error.kind, detail: error.detail });
  if (error.kind === "timeout") {
    return kratosError(STATUS.gatewayTimeout, `Kratos did not answer within ${deps.config.gateway.upstreamTimeoutMs} ms.`);
  }
  // Nobody reads the answer to an aborted request; it is a 502 for the record.
  return kratosError(STATUS.badGateway, "Kratos could not be reached. Please try again later.");
}
