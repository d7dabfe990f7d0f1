/**
 * Masks for personal data in logs. A log line may say *which* number or address was involved,
 * enough to correlate with a support request, never the value itself.
 */

/**
 * Keys whose values are never logged, at the top level or one level down (e.g.
 * `headers.authorization`). A second line of defence: we never pass such values to a logger.
 */
export const REDACTED_KEYS = ["authorization", "cookie", "password", "request_cookies", "apiKeys"] as const;
const REDACTED = new Set<string>(REDACTED_KEYS);

/** A log line's fields with the values of `REDACTED_KEYS` replaced, at the top level and one down. */
export function redactFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let changed = false;
  for (const key in fields) {
    const value = fields[key];
    if (REDACTED.has(key)) {
      out[key] = "[redacted]";
      changed = true;
    } else if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).some((k) => REDACTED.has(k))) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, REDACTED.has(k) ? "[redacted]" : v]));
      changed = true;
    } else out[key] = value;
  }
  return changed ? out : fields;
}

/** `+4917612345678` → `+49******5678`; short or odd input keeps only its last two digits. */
export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, "");
  if (digits.length < 8) return `******${digits.slice(-2)}`;
  return `${value.trim().startsWith("+") ? "+" : ""}${digits.slice(0, 2)}******${digits.slice(-4)}`;
}

/** `jane.doe@example.com` → `j***@example.com`. The domain stays: it is what deny rules act on. */
export function maskEmail(value: string): string {
  const at = value.lastIndexOf("@");
  if (at < 1) return "***";
  return `${value.slice(0, 1)}***@${value.slice(at + 1)}`;
}

/**
 * An email address in free text: a local part without separators of paths or URLs, and a domain
 * of dotted labels. A path such as `node_modules/@hono/node-server/dist` is none.
 */
const EMAIL_IN_TEXT = /[^\s@"'<>()[\]/\\:]+@(?:[\p{L}\p{N}-]+\.)+[\p{L}\p{N}-]{2,}/gu;

/** Masks email addresses and runs of 5+ digits in free text (error messages, stack traces). */
export function maskText(text: string): string {
  return text
    .replace(EMAIL_IN_TEXT, (m) => maskEmail(m))
    .replace(/\+?\d[\d\s().-]{3,}\d/g, (m) => (m.replace(/\D/g, "").length >= 5 ? maskPhone(m) : m));
}
