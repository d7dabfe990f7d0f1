import { createConsoleLogger, type GatewayRule, type Logger } from "kratos-hooks";

/**
 * A gateway rule: one log line per self-service submission (a login, a registration, …) that
 * passes the gateway in front of Kratos's public API, with its flow, method and the kind of
 * identifier, never the identifier itself.
 *
 * A rule is Hono middleware. It sees every request before it is forwarded to Kratos and reads
 * the method, path, headers and `c.get("attempt")`, never the body. `await next()` lets the
 * request through; `return kratosErrorResponse(429, "…")` refuses it in Kratos's error shape.
 */
export function logSubmissions(logger: Logger = createConsoleLogger("info")): GatewayRule {
  return async (c, next) => {
    const attempt = c.get("attempt");
    if (attempt !== undefined) {
      logger.info(
        { rule: "log-submissions", flow: attempt.flow, method: attempt.method, identifierKind: attempt.identifierKind },
        "self-service submission",
      );
    }
    await next();
  };
}
