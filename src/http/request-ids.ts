/** Kratos's per-attempt id when sent and well-formed, else our own. */
export function requestIdOf(request: Request): string {
  const sent = request.headers.get("ory-webhook-request-id");
  return sent !== null && /^[A-Za-z0-9._-]{1,128}$/.test(sent) ? sent : crypto.randomUUID();
}

// Kratos sends a UUID (`request/builder.go`, v25.4+); a short token of letters, digits and
// hyphens is accepted too. Anything else is dropped, never logged or handed to a policy raw.
const TRIGGER_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Kratos's `Ory-Webhook-Trigger-ID` when sent and well-formed: one id per hook execution, the
 * same on each retry (sent only while the web_hook's `emit_analytics_event` is on, the default).
 */
export function triggerIdOf(request: Request): string | undefined {
  const sent = request.headers.get("ory-webhook-trigger-id");
  return sent !== null && TRIGGER_ID.test(sent) ? sent : undefined;
}
