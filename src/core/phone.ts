import {
  type CountryCode,
  isSupportedCountry,
  type NumberType,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
} from "libphonenumber-js/max";

/**
 * Why a phone number could not be normalised. `needs_international` means the number is
 * written nationally and no region is known to read it in.
 */
export type PhoneFailure = "invalid" | "needs_international" | "extension";

/** libphonenumber number types (`getNumberType()`), the values `allowedTypes` takes. */
export const PHONE_TYPES = [
  "FIXED_LINE",
  "MOBILE",
  "FIXED_LINE_OR_MOBILE",
  "PREMIUM_RATE",
  "TOLL_FREE",
  "SHARED_COST",
  "VOIP",
  "PERSONAL_NUMBER",
  "PAGER",
  "UAN",
  "VOICEMAIL",
] as const satisfies readonly NumberType[];

export type PhoneType = (typeof PHONE_TYPES)[number];

export type PhoneResult =
  // `type` is computed on first read: matching every number-type pattern is the costliest step,
  // and only `allowedTypes` needs it.
  | { ok: true; e164: string; country: string | undefined; readonly type: NumberType | undefined }
  | {
      ok: false;
      reason: PhoneFailure;
      detail?: string;
      /**
       * For a number written nationally and read in a region, but not valid there: the same
       * digits after that region's country code (`0176 12`, DE → `+4917612`), when that is not
       * a valid number either. The gateway forwards it so that the hooks can say "not valid"
       * without the region (`src/gateway/submission.ts`).
       */
      international?: string;
    };

/** True for an ISO 3166-1 alpha-2 code that libphonenumber has metadata for ("DE", not "de"). */
export function isPhoneRegion(code: string): code is CountryCode {
  return /^[A-Z]{2}$/.test(code) && isSupportedCountry(code);
}

// Extension markers as people type them: "ext. 12", "extn 12", "x12", "#12", RFC 3966 ";ext=12".
const EXTENSION = /(?:;\s*ext\s*=|\bext(?:n|ension)?\.?|\bx\.?|#)\s*:?\s*\d+\s*$/iu;
// Visual separators: white space (incl. no-break and zero-width), dashes, dots, brackets, slashes.
const SEPARATORS = /[\s\u00a0\u200b-\u200d\u2060\ufeff\-\u2010-\u2015\u2212.()[\]/]/gu;
const DECIMAL_DIGIT = /\p{Nd}/u;
/** Anything but printable ASCII: only then can a number hold non-ASCII digits. */
const NOT_PRINTABLE_ASCII = /[^ -~]/;

/**
 * Maps any Unicode decimal digit (Arabic-Indic, Devanagari, full-width, …) to ASCII.
 * Unicode guarantees that every `Nd` run is a sequence of whole 0–9 blocks, so a digit's
 * value is its distance from the start of its run, modulo 10.
 */
function toASCIIDigits(value: string): string {
  let out = "";
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x30 && cp <= 0x39) {
      out += ch;
      continue;
    }
    if (!DECIMAL_DIGIT.test(ch)) {
      out += ch;
      continue;
    }
    let start = cp;
    while (start > 0 && DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start--;
    out += String((cp - start) % 10);
  }
  return out;
}

/** Splits a `tel:` URI (RFC 3966) into its number and parameters. */
function fromTelURI(value: string): { number: string; extension: boolean } {
  const [number = "", ...params] = value.slice(4).split(";");
  let result = number;
  let extension = false;
  for (const param of params) {
    const [name = "", arg = ""] = param.split("=");
    const key = name.trim().toLowerCase();
    if (key === "ext") extension = true;
    // A local number carries its country in `phone-context=+<cc>`.
    if (key === "phone-context" && arg.startsWith("+") && !result.trim().startsWith("+")) {
      result = arg + result;
    }
  }
  return { number: result, extension };
}

/**
 * Normalises a phone number as a person typed it to E.164, the form Kratos stores and
 * matches (`x/normalize.go`: phonenumbers Parse + IsValidNumber + Format(E164)).
 *
 * `region` reads numbers written without `+` or `00`; without one such numbers fail with
 * `needs_international`, as they would in Kratos, which never assumes a region.
 */
export function toE164(raw: string, region: CountryCode | undefined): PhoneResult {
  const nfkc = raw.normalize("NFKC");
  let value = (NOT_PRINTABLE_ASCII.test(nfkc) ? toASCIIDigits(nfkc) : nfkc).trim();
  if (/^tel:/i.test(value)) {
    const tel = fromTelURI(value);
    if (tel.extension) return { ok: false, reason: "extension" };
    value = tel.number.trim();
  }
  if (EXTENSION.test(value)) return { ok: false, reason: "extension" };

  const compact = value.replace(SEPARATORS, "");
  if (!/^\+?\d+$/.test(compact)) return { ok: false, reason: "invalid", detail: "NOT_A_NUMBER" };

  let candidate: string;
  let country: CountryCode | undefined;
  if (compact.startsWith("+")) {
    candidate = compact;
  } else if (compact.startsWith("00")) {
    // 00 is the international call prefix of most of the world (ITU-T E.164 recommendation).
    candidate = `+${compact.slice(2)}`;
  } else if (region !== undefined) {
    candidate = compact;
    country = region;
  } else {
    return { ok: false, reason: "needs_international" };
  }

  const parsed = parsePhoneNumberFromString(candidate, country);
  if (parsed === undefined) return { ok: false, reason: "invalid", detail: "NOT_A_NUMBER" };
  if (parsed.ext !== undefined) return { ok: false, reason: "extension" };
  if (!parsed.isValid()) {
    const detail = validatePhoneNumberLength(candidate, country) ?? "INVALID_NUMBER";
    if (country === undefined) return { ok: false, reason: "invalid", detail };
    return {
      ok: false,
      reason: "invalid",
      detail,
      // Computed on first read, like `type`: only the gateway asks. Never a valid number in
      // disguise: read with no region, it must still be refused.
      get international() {
        return toE164(parsed.number, undefined).ok ? undefined : parsed.number;
      },
    };
  }
  return {
    ok: true,
    e164: parsed.number,
    country: parsed.country,
    get type() {
      return parsed.getType();
    },
  };
}
