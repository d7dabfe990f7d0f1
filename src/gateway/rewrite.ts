import { isPlainObject } from "../core/json.js";
import { toE164 } from "../core/phone.js";
import type { ResolvedRegion } from "../core/phone-region.js";
import { findStringMembers, type StringMember } from "./json-members.js";

/** The self-service flows whose submissions (`POST /self-service/<flow>?flow=<id>`) the gateway reads. */
export const SELF_SERVICE_FLOWS = ["login", "registration", "settings", "recovery", "verification"] as const;
export type SelfServiceFlow = (typeof SELF_SERVICE_FLOWS)[number];

/**
 * The body fields that can hold a phone number, per flow (contract §9.1):
 * - login: `identifier` (password, code, identifier-first), its legacy `password_identifier`, and
 *   the code method's `address` (step 2 looks the identity up again from `address || identifier`);
 * - registration and settings: the configured phone traits, however the body writes them;
 * - recovery: `recovery_address` and `recovery_confirm_address` (Kratos v25.4+; v1.3.1 takes only
 *   `email`, which is never rewritten);
 * - verification: none; every released Kratos reads only `email` there.
 */
export function phoneFieldsOf(flow: SelfServiceFlow, phoneTraits: readonly string[]): ReadonlySet<string> {
  switch (flow) {
    case "login":
      return new Set(["identifier", "password_identifier", "address"]);
    case "registration":
    case "settings":
      return new Set(phoneTraits.map((trait) => `traits.${trait}`));
    case "recovery":
      return new Set(["recovery_address", "recovery_confirm_address"]);
    case "verification":
      return new Set();
  }
}

export type BodyFormat = "json" | "form";

/** The formats the gateway rewrites, by media type (parameters such as `charset` are allowed, as Kratos allows them). */
export function bodyFormatOf(contentType: string | null): BodyFormat | undefined {
  const media = contentType?.split(";", 1)[0]?.trim().toLowerCase();
  if (media === "application/json") return "json";
  if (media === "application/x-www-form-urlencoded") return "form";
  return undefined;
}

export interface Rewrite {
  /** The body to forward: the very bytes received when nothing changed. */
  body: Uint8Array;
  /** The fields rewritten, by name (`identifier`, `traits.phone`), each once. */
  fields: string[];
}

/** The region for this body: `picked` is its `transient_payload.phone_region`, if any. */
export type RegionOf = (picked: unknown) => ResolvedRegion;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** The E.164 form of a value, when it is a number that normalizes and is not written that way already. */
function rewritten(value: unknown, region: ResolvedRegion): string | undefined {
  if (typeof value !== "string") return undefined;
  const result = toE164(value, region.region);
  return result.ok && result.e164 !== value ? result.e164 : undefined;
}

interface Splice {
  start: number;
  end: number;
  text: string;
  field: string;
}

function apply(text: string, bytes: Uint8Array, splices: Splice[]): Rewrite {
  if (splices.length === 0) return { body: bytes, fields: [] };
  let out = "";
  let at = 0;
  for (const splice of splices) {
    out += text.slice(at, splice.start) + splice.text;
    at = splice.end;
  }
  out += text.slice(at);
  return { body: encoder.encode(out), fields: [...new Set(splices.map((s) => s.field))] };
}

/**
 * `transient_payload.phone_region` of a valid JSON body. Go's decoder, like JSON.parse, keeps the
 * last of duplicate keys. A string value is read from the scan; anything else (a number, say,
 * which the hook reports as an unknown region) needs the whole document parsed.
 */
function pickedRegion(text: string, members: readonly StringMember[]): unknown {
  const picked = members.findLast((m) => m.path === "transient_payload.phone_region");
  if (picked !== undefined && !text.includes('"phone_region"', picked.end)) return JSON.parse(text.slice(picked.start, picked.end));
  if (!text.includes("phone_region")) return undefined;
  const document: unknown = JSON.parse(text);
  const transient = isPlainObject(document) ? document.transient_payload : undefined;
  return isPlainObject(transient) ? transient.phone_region : undefined;
}

function rewriteJSON(text: string, bytes: Uint8Array, fields: ReadonlySet<string>, regionOf: RegionOf): Rewrite {
  const members = findStringMembers(text);
  if (members === undefined) return { body: bytes, fields: [] };
  const wanted = members.filter((m) => fields.has(m.path));
  if (wanted.length === 0) return { body: bytes, fields: [] };
  const region = regionOf(pickedRegion(text, members));
  const splices: Splice[] = [];
  for (const member of wanted) {
    const value = rewritten(JSON.parse(text.slice(member.start, member.end)), region);
    if (value !== undefined) splices.push({ start: member.start, end: member.end, text: JSON.stringify(value), field: member.path });
  }
  return apply(text, bytes, splices);
}

/** `application/x-www-form-urlencoded` decoding of one key or value. Throws on a malformed escape. */
function formDecode(raw: string): string {
  return decodeURIComponent(raw.replaceAll("+", " "));
}

function rewriteForm(text: string, bytes: Uint8Array, fields: ReadonlySet<string>, regionOf: RegionOf): Rewrite {
  const pairs: { key: string; value: string; valueStart: number; valueEnd: number }[] = [];
  let at = 0;
  try {
    for (const raw of text.split("&")) {
      const eq = raw.indexOf("=");
      const valueStart = at + (eq < 0 ? raw.length : eq + 1);
      pairs.push({
        key: formDecode(eq < 0 ? raw : raw.slice(0, eq)),
        value: eq < 0 ? "" : formDecode(raw.slice(eq + 1)),
        valueStart,
        valueEnd: at + raw.length,
      });
      at += raw.length + 1;
    }
  } catch {
    // Kratos refuses a body it cannot decode (400); it gets the body as sent to say so.
    return { body: bytes, fields: [] };
  }
  const wanted = pairs.filter((p) => fields.has(p.key));
  if (wanted.length === 0) return { body: bytes, fields: [] };
  // In a form, transient_payload is a JSON string, and Go's form reader takes a key's first value.
  let picked: unknown;
  const transient = pairs.find((p) => p.key === "transient_payload");
  if (transient !== undefined) {
    try {
      const parsed: unknown = JSON.parse(transient.value);
      if (isPlainObject(parsed)) picked = parsed.phone_region;
    } catch {
      // Kratos refuses it; no region from here.
    }
  }
  const region = regionOf(picked);
  const splices: Splice[] = [];
  for (const pair of wanted) {
    const value = rewritten(pair.value, region);
    if (value !== undefined) splices.push({ start: pair.valueStart, end: pair.valueEnd, text: encodeURIComponent(value), field: pair.key });
  }
  return apply(text, bytes, splices);
}

/**
 * Rewrites the phone fields of a self-service body to E.164, changing nothing else: every other
 * byte is kept as sent, and a body with nothing to change (or one Kratos itself would refuse:
 * not UTF-8, not JSON, a malformed form) is returned as the same bytes. A value that is an
 * email, already E.164, or does not normalize in the region stays as typed.
 */
export function rewritePhoneFields(format: BodyFormat, bytes: Uint8Array, fields: ReadonlySet<string>, regionOf: RegionOf): Rewrite {
  if (fields.size === 0) return { body: bytes, fields: [] };
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { body: bytes, fields: [] };
  }
  return format === "json" ? rewriteJSON(text, bytes, fields, regionOf) : rewriteForm(text, bytes, fields, regionOf);
}
