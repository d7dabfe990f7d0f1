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

/** `{"error": {"code", "message", "path"}}`: the body of every non-hook answer. */
export function errorBody(code: ErrorCode, message: string, path: string | null = null): string {
  return JSON.stringify({ error: { code, message, path } });
}

/** A response with `errorBody`. */
export function errorResponse(
  status: number,
  code: ErrorCode,
  message: string,
  path: string | null = null,
  headers?: Record<string, string>,
): Response {
  return new Response(errorBody(code, message, path), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}
