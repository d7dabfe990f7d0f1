import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { STATUS } from "../core/http-status.js";
import type { Logger } from "../core/logger.js";
import { maskText } from "../core/redact.js";
import type { GatewayEnv } from "./app.js";
import { isKratosErrorStatus, KratosHTTPException, kratosError, statusText } from "./kratos-error.js";
import { routeTemplate } from "./routes.js";

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

/**
 * The gateway's answer to what a request threw: a rule's refusal (`KratosHTTPException`, or
 * Hono's `HTTPException`) in Kratos's shape; anything else a 500 with a request id to find the
 * logged stack by.
 */
export function gatewayErrorHandler(logger: Logger): ErrorHandler<GatewayEnv> {
  return (error, c) => {
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
        status: STATUS.internalError,
        err: { type: error.name, stack: maskText(error.stack ?? error.message) },
      },
      "gateway internal error",
    );
    return kratosError(STATUS.internalError, `Internal error in the gateway (request ${requestId}).`);
  };
}
