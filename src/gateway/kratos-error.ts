/** The gateway's own answers, each a status Kratos itself uses for the same situation. */
export type GatewayErrorStatus = 413 | 500 | 502 | 504 | 508;

const STATUS_TEXT: Record<GatewayErrorStatus, string> = {
  413: "Payload Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  504: "Gateway Timeout",
  508: "Loop Detected",
};

/**
 * An error in Kratos's own shape (herodot's `{"error":{"code","status","message"}}`), so a client
 * of Kratos's public API reads the gateway's few answers of its own like any Kratos error.
 */
export function kratosError(status: GatewayErrorStatus, message: string): Response {
  return new Response(JSON.stringify({ error: { code: status, status: STATUS_TEXT[status], message } }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "private, no-cache, no-store, must-revalidate" },
  });
}
