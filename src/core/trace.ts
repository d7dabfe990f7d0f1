/** A W3C trace context as a caller sent it: the trace, and the caller's span (our parent). */
export interface TraceContext {
  traceId: string;
  spanId: string;
}

// version-traceid-parentid-flags (W3C Trace Context §3.2); a later version may append fields.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Reads a `traceparent` header, which Kratos sends on each web_hook call when its tracing is on
 * with a propagating provider (`tracing.provider: otel` or `jaeger`; the otel transport of ory/x
 * `httpx`). Undefined for a missing or malformed header, an all-zero id, or version `ff`.
 */
export function parseTraceparent(value: string | null | undefined): TraceContext | undefined {
  const match = value === null || value === undefined ? null : TRACEPARENT.exec(value.trim());
  if (match === null) return undefined;
  const [, version, traceId = "", spanId = "", , rest] = match;
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId };
}
