/**
 * Every HTTP status kratos-hooks answers or reads, by name, with its reason phrase: the one home of
 * status codes (docs/design.md). Code says `STATUS.unprocessable`, not `422`; a new status is added
 * here first, with the phrase herodot (Kratos's error writer) gives it.
 */
export const STATUS = {
  ok: 200,
  noContent: 204,
  seeOther: 303,
  badRequest: 400,
  unauthorized: 401,
  forbidden: 403,
  notFound: 404,
  methodNotAllowed: 405,
  requestTimeout: 408,
  conflict: 409,
  gone: 410,
  payloadTooLarge: 413,
  unprocessable: 422,
  tooManyRequests: 429,
  headerFieldsTooLarge: 431,
  /** nginx's "client closed request": the caller went away before Kratos answered (logged, never sent). */
  clientClosed: 499,
  internalError: 500,
  /** The one 5xx Kratos reads as a refusal (its body's messages), not as a failure to retry. */
  notImplemented: 501,
  badGateway: 502,
  unavailable: 503,
  gatewayTimeout: 504,
  loopDetected: 508,
} as const;

/** A status named in `STATUS`. */
export type Status = (typeof STATUS)[keyof typeof STATUS];

const REASON_PHRASES: Readonly<Record<Status, string>> = {
  200: "OK",
  204: "No Content",
  303: "See Other",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  413: "Payload Too Large",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  499: "Client Closed Request",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  508: "Loop Detected",
};

/** Whether `status` is one of `STATUS`. */
export function isStatus(status: number): status is Status {
  return Object.hasOwn(REASON_PHRASES, status);
}

/** The reason phrase of a status in `STATUS` (herodot's `status` field), or undefined for any other number. */
export function reasonPhrase(status: number): string | undefined {
  return isStatus(status) ? REASON_PHRASES[status] : undefined;
}

/** A 3xx: the answer points elsewhere (Location). */
export function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

/** A 4xx or 5xx. */
export function isErrorStatus(status: number): boolean {
  return status >= 400 && status < 600;
}
