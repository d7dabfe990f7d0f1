import type { Refusal } from "./refusals.js";

/** One `key=value` pair of a form body or a query, decoded, with where its value sits. */
export interface FormPair {
  key: string;
  value: string;
  /** Offsets of the raw (still encoded) value in the text. */
  valueStart: number;
  valueEnd: number;
}

/** Why a form or a query is refused: each a case Go's `url.ParseQuery` (Kratos) refuses or skips. */
export type FormProblem = Extract<Refusal, "form_semicolon" | "form_bad_escape" | "form_too_many_fields">;

/** Go's `url.ParseQuery` refuses more (net/url `defaultMaxParams`). */
export const MAX_FORM_FIELDS = 10_000;

const utf8 = new TextDecoder("utf-8");

/**
 * `application/x-www-form-urlencoded` decoding of one key or value, as Go's `url.QueryUnescape`
 * does it: `+` is a space, `%XX` a byte; a `%` without two hex digits is an error (undefined).
 * The bytes are read as UTF-8 with U+FFFD for what is not: Kratos keeps the raw bytes, and its
 * decoder re-marshals them with the same replacement before anything reads them.
 */
function queryUnescape(raw: string): string | undefined {
  if (!raw.includes("%") && !raw.includes("+")) return raw;
  const bytes = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25) {
      const hex = raw.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes[n++] = Number.parseInt(hex, 16);
      i += 2;
    } else bytes[n++] = c === 0x2b ? 0x20 : c;
  }
  return utf8.decode(bytes.subarray(0, n));
}

/**
 * Splits a form body or a query the way Go's `url.ParseQuery` does (net/url `parseQuery`): pairs
 * separated by `&`, empty pairs skipped, a pair without `=` is a key with an empty value. `text`
 * holds one character per byte (latin1), so offsets are byte offsets. Where Go would fail or skip
 * a pair (a `;`, a malformed escape, more than 10,000 pairs), the whole text is refused: Kratos
 * refuses a body it cannot parse, and a pair Go skips must not be one the gateway reads.
 */
export function parseFormPairs(text: string): { ok: true; pairs: FormPair[] } | { ok: false; problem: FormProblem } {
  const pairs: FormPair[] = [];
  if (text === "") return { ok: true, pairs };
  if (text.includes(";")) return { ok: false, problem: "form_semicolon" };
  let at = 0;
  let count = 0;
  for (const raw of text.split("&")) {
    if (++count > MAX_FORM_FIELDS) return { ok: false, problem: "form_too_many_fields" };
    if (raw !== "") {
      const eq = raw.indexOf("=");
      const key = queryUnescape(eq < 0 ? raw : raw.slice(0, eq));
      const value = eq < 0 ? "" : queryUnescape(raw.slice(eq + 1));
      if (key === undefined || value === undefined) return { ok: false, problem: "form_bad_escape" };
      const valueStart = at + (eq < 0 ? raw.length : eq + 1);
      pairs.push({ key, value, valueStart, valueEnd: at + raw.length });
    }
    at += raw.length + 1;
  }
  return { ok: true, pairs };
}
