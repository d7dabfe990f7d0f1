import { reasonPhrase, STATUS, type Status } from "../core/http-status.js";
import { REFUSALS, type Refusal } from "./refusals.js";

/** The statuses `kratosErrorResponse` answers with: the client and server errors Kratos's clients know. */
const KRATOS_ERROR_STATUSES = [
  STATUS.badRequest,
  STATUS.unauthorized,
  STATUS.forbidden,
  STATUS.notFound,
  STATUS.conflict,
  STATUS.gone,
  STATUS.payloadTooLarge,
  STATUS.unprocessable,
  STATUS.tooManyRequests,
  STATUS.internalError,
  STATUS.badGateway,
  STATUS.unavailable,
  STATUS.gatewayTimeout,
  STATUS.loopDetected,
] as const satisfies readonly Status[];

/** The statuses `kratosErrorResponse` answers with: the client and server errors Kratos's clients know. */
export type KratosErrorStatus = (typeof KRATOS_ERROR_STATUSES)[number];

/** The gateway's own answers among them, each a status Kratos itself uses for the same situation. */
export type GatewayErrorStatus = Extract<
  KratosErrorStatus,
  | typeof STATUS.payloadTooLarge
  | typeof STATUS.internalError
  | typeof STATUS.badGateway
  | typeof STATUS.gatewayTimeout
  | typeof STATUS.loopDetected
>;

/** `{"error":{"code","status","reason"?,"message"}}`: herodot's shape, as Kratos writes every error. */
export function kratosErrorBody(status: number, message: string, reason?: string): string {
  return JSON.stringify({
    error: { code: status, status: reasonPhrase(status) ?? "Error", ...(reason === undefined ? {} : { reason }), message },
  });
}

const NO_STORE = "private, no-cache, no-store, must-revalidate";

/**
 * An error in Kratos's own shape (herodot's `{"error":{"code","status","message"}}`), so a client
 * of Kratos's public API reads the gateway's few answers of its own like any Kratos error.
 */
export function kratosError(status: GatewayErrorStatus, message: string): Response {
  return new Response(kratosErrorBody(status, message), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": NO_STORE },
  });
}

/** herodot's `ErrBadRequest` message: what Kratos itself answers a malformed request with, the detail in `reason`. */
const BAD_REQUEST = "The request was malformed or contained invalid parameters";

/**
 * The gateway's 400 for a request it refuses to forward (`REFUSALS`): Kratos's shape, the reason
 * in `reason`, and `Connection: close`, so that nothing else on the connection is read after it.
 */
export function kratosRefusal(refusal: Refusal): Response {
  return new Response(kratosErrorBody(STATUS.badRequest, BAD_REQUEST, REFUSALS[refusal]), {
    status: STATUS.badRequest,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": NO_STORE, connection: "close" },
  });
}

/**
 * For gateway rules of your own: an answer in Kratos's error shape,
 * `{"error":{"code":429,"status":"Too Many Requests","reason":…,"message":…}}`, as Kratos's SDKs
 * and UIs read any Kratos error. `reason` is optional detail; `headers` are added (`retry-after`).
 *
 * ```ts
 * import { type GatewayRule, kratosErrorResponse } from "kratos-hooks";
 * const blockBots: GatewayRule = async (c, next) =>
 *   c.req.header("user-agent")?.includes("bot") ? kratosErrorResponse(403, "Automated clients are not allowed.", { reason: "bot" }) : next();
 * ```
 *
 * @throws TypeError for a status outside `KratosErrorStatus` or an empty message.
 */
export function kratosErrorResponse(
  status: KratosErrorStatus,
  message: string,
  options: { reason?: string; headers?: Record<string, string> } = {},
): Response {
  if (!isKratosErrorStatus(status))
    throw new TypeError(`kratosErrorResponse: status ${status} is not one of ${KRATOS_ERROR_STATUSES.join(", ")}`);
  if (typeof message !== "string" || message.trim() === "") throw new TypeError("kratosErrorResponse: expected a message for the client");
  return new Response(kratosErrorBody(status, message, options.reason), {
    status,
    headers: { ...options.headers, "content-type": "application/json; charset=utf-8", "cache-control": NO_STORE },
  });
}

/**
 * The error a gateway rule throws to refuse a request, in the manner of Hono's `HTTPException`:
 * the gateway answers it in Kratos's error shape (`kratosErrorResponse`), so Kratos's SDKs and
 * UIs read it like any Kratos error, and logs the refusal (at info, without the message).
 * Throw it from anywhere in a rule, a helper it calls included; returning
 * `kratosErrorResponse(…)` from the rule is the same answer. A Hono `HTTPException` thrown by a
 * rule is answered the same way, with its status and message.
 *
 * ```ts
 * throw new KratosHTTPException(429, "Too many sign-in attempts. Try again in a minute.", { reason: "login_limit", headers: { "retry-after": "60" } });
 * ```
 */
export class KratosHTTPException extends Error {
  override name = "KratosHTTPException";
  readonly status: KratosErrorStatus;
  readonly reason: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  /** @throws TypeError for a status outside `KratosErrorStatus` or an empty message, as `kratosErrorResponse`. */
  constructor(
    status: KratosErrorStatus,
    message: string,
    options: { reason?: string; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // Checked here, where the rule's author made the mistake, not when the answer is written.
    kratosErrorResponse(status, message);
    this.status = status;
    this.reason = options.reason;
    this.headers = { ...options.headers };
  }

  /** The answer: `{"error":{"code","status","reason"?,"message"}}` with the status and headers. */
  getResponse(): Response {
    return kratosErrorResponse(this.status, this.message, {
      ...(this.reason !== undefined && { reason: this.reason }),
      headers: { ...this.headers },
    });
  }
}

/** The status's name as Kratos writes it (`Unauthorized`). */
export function statusText(status: KratosErrorStatus): string {
  return reasonPhrase(status) ?? "Error";
}

/** A Hono `HTTPException`'s status, when it is one `kratosErrorResponse` answers with. */
export function isKratosErrorStatus(status: number): status is KratosErrorStatus {
  return (KRATOS_ERROR_STATUSES as readonly number[]).includes(status);
}
