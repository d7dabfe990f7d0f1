import type { CountryCode } from "libphonenumber-js/max";
import { toE164 } from "../core/phone.js";
import type { ResolvedRegion } from "../core/phone-region.js";
import type { SelfServiceFlow } from "../kratos/self-service.js";
import { type Refusal, Refused } from "./refusals.js";
import { findPhones, type Phone } from "./submission-phones.js";
import { type BodyFormat, type Entry, forwardedBytes, readBody, readForm, type Source, spliced, textOf } from "./submission-sources.js";

/**
 * The fields that can hold a phone number, per flow (contract §9.1):
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

/**
 * How Kratos reads a submission's body by its Content-Type (ory/x `httpx.HasContentType` and
 * decoderx): the media type, lower-cased, parameters ignored (a `charset` changes nothing).
 * - `json` and `form` are read by the gateway;
 * - a list of media types is refused: Kratos v1.3.1 splits it on commas and reads
 *   `text/plain, application/json` as JSON, v26.2.0 refuses it;
 * - multipart is refused: Kratos reads its fields only on a path that then fails the CSRF check
 *   (ory/nosurf with two CSRF cookies), and the gateway does not parse it;
 * - anything else (`undefined`) Kratos refuses itself (4000001), so it is forwarded as it came.
 */
export function bodyFormatOf(contentType: string | null): BodyFormat | Extract<Refusal, "content_type_list" | "multipart"> | undefined {
  if (contentType === null) return undefined;
  if (contentType.includes(",")) return "content_type_list";
  const media = contentType.split(";", 1)[0]?.trim().toLowerCase();
  if (media === "application/json") return "json";
  if (media === "application/x-www-form-urlencoded") return "form";
  if (media === "multipart/form-data") return "multipart";
  return undefined;
}

/** The region for this submission: `picked` is its `transient_payload.phone_region`, if any. */
export type RegionOf = (picked: unknown) => ResolvedRegion;

/** What the gateway reads of one submission: its query, and its body when it is JSON or a form. */
export interface SubmissionInput {
  /** The query string, without `?` (`flow=…`); Kratos reads fields there for GET and merges them for recovery and verification. */
  query: string;
  body?: { format: BodyFormat; bytes: Uint8Array };
  /** The fields that can hold a phone number in this flow (`phoneFieldsOf`). */
  fields: ReadonlySet<string>;
}

export type Submission =
  | {
      ok: true;
      /** The query to forward: the same text when nothing changed. */
      query: string;
      /** The body to forward: the very bytes received when nothing changed. */
      body: Uint8Array | undefined;
      /** The fields rewritten, by name (`identifier`, `traits.phone`), each once. */
      rewritten: string[];
      /**
       * The submission's fields as Kratos reads them, after the rewriting: the top-level string,
       * number and boolean fields of the source Kratos decodes (the body of a POST, else the
       * query; a form's first value of a repeated key), and every phone field (`traits.phone`).
       */
      fields: ReadonlyMap<string, string>;
    }
  | { ok: false; refusal: Refusal };

/**
 * Reads a self-service submission as Kratos's decoder does, and rewrites the phone fields to
 * E.164 where they normalize in the region, changing nothing else: every other byte of the
 * query and the body is kept. Where Kratos could read a phone field the gateway would not see
 * (or read it differently), the submission is refused instead (`refusal`):
 * - a JSON body that is not one object and nothing else (trailing data, which Kratos ignores;
 *   invalid UTF-8, which it replaces), nests deeper than 64, or has a top-level key twice;
 * - a form or query Go would not parse whole (`;`, a malformed escape, over 10,000 fields);
 * - a phone field that is not a string (Kratos turns `15550001` into `"15550001"`), or that
 *   is given more than once in any spelling (dotted and nested, body and query: Kratos's pick is
 *   random or depends on the flow);
 * - a text for a field that may be an object that is not exactly one JSON object (Kratos inserts
 *   it raw, so it can add fields), or that carries a phone field inside it.
 */
export function readSubmission(input: SubmissionInput, regionOf: RegionOf): Submission {
  try {
    return read(input, regionOf);
  } catch (error) {
    if (error instanceof Refused) return { ok: false, refusal: error.refusal };
    throw error;
  }
}

function read(input: SubmissionInput, regionOf: RegionOf): Submission {
  const query = readForm(input.query);
  const body = input.body === undefined ? undefined : readBody(input.body);
  const entries = [...query.entries, ...(body?.entries ?? [])];
  const { phones, picked } = findPhones(entries, body, input.fields);
  if (phones.length > 0) rewritePhones(phones, regionOf(picked));
  const rewritten = [...new Set([...query.source.splices, ...(body?.source.splices ?? [])].map((s) => s.field))];
  return {
    ok: true,
    query: query.source.splices.length === 0 ? input.query : spliced(query.source),
    body: input.body === undefined || body === undefined ? undefined : forwardedBytes(body.source, input.body.bytes),
    rewritten,
    fields: fieldValues(entries, phones, body?.source),
  };
}

/** Splices each phone field's international form into its source, written as that source writes a value. */
function rewritePhones(phones: readonly Phone[], region: ResolvedRegion): void {
  for (const phone of phones) {
    const written = internationalForm(phone.value, region.region, phone.field.startsWith("traits."));
    if (written === undefined || written === phone.value) continue;
    const value = phone.source.encoding === "json" ? JSON.stringify(written) : encodeURIComponent(written);
    phone.source.splices.push({ start: phone.start, end: phone.end, value, field: phone.field });
  }
}

/** The submission's fields as Kratos reads them after the rewriting (`Submission.fields`). */
function fieldValues(entries: readonly Entry[], phones: readonly Phone[], body: Source | undefined): Map<string, string> {
  const values = new Map<string, string>();
  for (const entry of entries) {
    // Kratos decodes the body of a POST (the query only for GET, and merged for recovery and
    // verification, whose fields the shield reads are phone fields, each given once).
    if (body !== undefined && entry.source !== body) continue;
    if (values.has(entry.key) || entry.kind === "object" || entry.kind === "array" || entry.kind === "null") continue;
    values.set(entry.key, entry.kind === "string" ? (textOf(entry) ?? "") : entry.source.text.slice(entry.start, entry.end));
  }
  for (const phone of phones) {
    const splice = phone.source.splices.find((s) => s.start === phone.start);
    values.set(
      phone.field,
      splice === undefined
        ? phone.value
        : phone.source.encoding === "json"
          ? (JSON.parse(splice.value) as string)
          : decodeURIComponent(splice.value),
    );
  }
  return values;
}

/**
 * What the gateway forwards for a phone field: its E.164 form. For a trait (registration and
 * settings), a number written nationally that is not valid in the region it was read in goes
 * with that region's country code (`toE164`'s `international`, itself never a valid number), so
 * that the hooks answer "not valid" without needing the region: Kratos v26.2.0 (v25.4 not
 * measured) passes no `transient_payload` to settings hooks. Anything else is left as written.
 */
function internationalForm(raw: string, region: CountryCode | undefined, trait: boolean): string | undefined {
  const result = toE164(raw, region);
  if (result.ok) return result.e164;
  return trait ? result.international : undefined;
}
