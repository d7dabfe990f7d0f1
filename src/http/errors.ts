import { STATUS, type Status } from "../core/http-status.js";

/** Client-facing error codes for requests we cannot process (never for policy outcomes). */
export type ErrorCode =
  | "unauthorized"
  | "not_found"
  | "method_not_allowed"
  | "unsupported_content_type"
  | "invalid_json"
  | "invalid_payload"
  | "payload_too_large"
  | "internal_error"
  | "misconfigured"
  | "bad_request"
  | "request_timeout"
  | "headers_too_large"
  | "unavailable";

/** Each code's status: the code names the problem, and the status follows from it. */
export const ERROR_STATUS: Readonly<Record<ErrorCode, Status>> = {
  unauthorized: STATUS.unauthorized,
  not_found: STATUS.notFound,
  method_not_allowed: STATUS.methodNotAllowed,
  unsupported_content_type: STATUS.badRequest,
  invalid_json: STATUS.badRequest,
  invalid_payload: STATUS.badRequest,
  payload_too_large: STATUS.payloadTooLarge,
  internal_error: STATUS.internalError,
  misconfigured: STATUS.unavailable,
  bad_request: STATUS.badRequest,
  request_timeout: STATUS.requestTimeout,
  headers_too_large: STATUS.headerFieldsTooLarge,
  unavailable: STATUS.unavailable,
};

/** `{"error": {"code", "message", "path"}}`: the body of every non-hook answer. */
export function errorBody(code: ErrorCode, message: string, path: string | null = null): string {
  return JSON.stringify({ error: { code, message, path } });
}

/** A response with `errorBody`, at the code's status (`ERROR_STATUS`). */
export function errorResponse(code: ErrorCode, message: string, path: string | null = null, headers?: Record<string, string>): Response {
  return new Response(errorBody(code, message, path), {
    status: ERROR_STATUS[code],
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}
