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

/** The same in a URL, percent-encoded: `jane%40example.com`, as `encodeURIComponent` writes it. */
const ENCODED_EMAIL_IN_TEXT = /[^\s@"'<>()[\]/\\:?&=%]+%40((?:[\p{L}\p{N}-]+\.)+[\p{L}\p{N}-]{2,})/giu;

/**
 * Credentials in free text: an `Authorization`, `Cookie` or `Set-Cookie` header's value, a
 * Bearer or Basic credential, a JWT, an Ory token (`ory_st_…`), and the value of a query
 * parameter or assignment whose name says secret (`api_key=`, `token=`, `password=`, …).
 */
const SECRETS: readonly [RegExp, string][] = [
  [/\b((?:set-)?cookie|authorization|proxy-authorization|x-api-key)(\s*[:=]\s*)[^\n]*/gi, "$1$2[redacted]"],
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, "$1 [redacted]"],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, "[redacted jwt]"],
  [/\bory_[a-z]{2,3}_[A-Za-z0-9]{8,}/g, "ory_[redacted]"],
  [
    /\b([A-Za-z0-9_-]*(?:token|secret|passw(?:or)?d|api[_-]?key|apikey|session|credential|signature)[A-Za-z0-9_-]*)(=|":\s*"|:\s*)([^&\s"',;]+)/gi,
    "$1$2[redacted]",
  ],
];

/**
 * Masks what a log line must never hold in clear, in free text (error messages, stack traces):
 * email addresses (also percent-encoded in a URL), runs of 5+ digits (phone numbers), and
 * credentials (`SECRETS`).
 */
export function maskText(text: string): string {
  let masked = text;
  for (const [pattern, replacement] of SECRETS) masked = masked.replace(pattern, replacement);
  return masked
    .replace(EMAIL_IN_TEXT, (m) => maskEmail(m))
    .replace(ENCODED_EMAIL_IN_TEXT, (m, domain: string) => `${m.slice(0, 1)}***%40${domain}`)
    .replace(/\+?\d[\d\s().-]{3,}\d/g, (m) => (m.replace(/\D/g, "").length >= 5 ? maskPhone(m) : m));
}
