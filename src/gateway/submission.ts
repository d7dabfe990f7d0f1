import type { CountryCode } from "libphonenumber-js/max";
import { isJsonObject } from "../core/json.js";
import { toE164 } from "../core/phone.js";
import type { ResolvedRegion } from "../core/phone-region.js";
import type { SelfServiceFlow } from "../kratos/self-service.js";
import { type FormPair, parseFormPairs } from "./form-pairs.js";
import { type JsonMember, scanJsonObject } from "./json-members.js";
import type { Refusal } from "./refusals.js";

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

export type BodyFormat = "json" | "form";

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

/** Where a source's text came from, and how a value in it is written. */
interface Source {
  encoding: BodyFormat;
  text: string;
  splices: Splice[];
}

interface Splice {
  start: number;
  end: number;
  value: string;
  field: string;
}

/** A field as Kratos's decoder lists it: a top-level key of a JSON body, or a pair of a form or query. */
interface Entry {
  key: string;
  /** The value, for a string: a form value as decoded, or (`undefined` until read) a JSON string's literal. */
  text: string | undefined;
  kind: JsonMember["kind"];
  source: Source;
  start: number;
  end: number;
}

/** An entry's string value (a JSON literal is decoded only when a rule needs it), or undefined for another kind. */
function textOf(entry: Entry): string | undefined {
  if (entry.kind !== "string") return undefined;
  entry.text ??= JSON.parse(entry.source.text.slice(entry.start, entry.end)) as string;
  return entry.text;
}

/**
 * Fields whose schema type is, or may be, an object: Kratos's decoder inserts a text given for
 * such a field into the document it rebuilds as raw JSON, unchecked (ory/x decoderx
 * `decodeURLValues`, `sjson.SetRawBytes`). So `transient_payload: "{}, \"identifier\": \"…\""`
 * adds an `identifier` the body never had. Traits are the identity schema's, so every `traits.*`
 * field may be an object.
 */
function mayBeObject(key: string): boolean {
  return key === "transient_payload" || key === "traits" || key.startsWith("traits.") || key === "upstream_parameters";
}

class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal);
  }
}

function refuse(refusal: Refusal): never {
  throw new Refused(refusal);
}

const fatalUTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** One byte per character, so that a form's offsets are byte offsets and its bytes come back unchanged. */
function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return text;
}

function fromLatin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The object a JSON text holds, when it is exactly one object; undefined when it is no JSON at all. */
function oneObject(text: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isJsonObject(parsed) ? parsed : undefined;
}

/** The value at a dotted path inside an object, or undefined. */
function at(object: Record<string, unknown>, path: string): unknown {
  let node: unknown = object;
  for (const key of path.split(".")) {
    if (!isJsonObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

function formEntries(text: string, source: Source): Entry[] {
  const parsed = parseFormPairs(text);
  if (!parsed.ok) refuse(parsed.problem);
  return parsed.pairs.map((pair: FormPair) => ({
    key: pair.key,
    text: pair.value,
    kind: "string" as const,
    source,
    start: pair.valueStart,
    end: pair.valueEnd,
  }));
}

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
  const { fields } = input;
  const entries: Entry[] = [];
  const query: Source = { encoding: "form", text: input.query, splices: [] };
  entries.push(...formEntries(input.query, query));
  let body: Source | undefined;
  const nested: JsonMember[] = [];
  if (input.body !== undefined) {
    const { format, bytes } = input.body;
    if (format === "form") {
      body = { encoding: "form", text: latin1(bytes), splices: [] };
      entries.push(...formEntries(body.text, body));
    } else {
      let text: string;
      try {
        text = fatalUTF8.decode(bytes);
      } catch {
        refuse("json_not_utf8");
      }
      body = { encoding: "json", text, splices: [] };
      const scanned = scanJsonObject(text);
      if (!scanned.ok) refuse(scanned.problem);
      for (const member of scanned.members) {
        if (member.depth === 1) {
          entries.push({ key: member.path, text: undefined, kind: member.kind, source: body, start: member.start, end: member.end });
        } else nested.push(member);
      }
    }
  }

  // Each phone field once, in one place; its value as Kratos will read it.
  const phones: { field: string; value: string; source: Source; start: number; end: number }[] = [];
  const objects = new Set<string>();
  let picked: unknown;
  for (const entry of entries) {
    if (fields.has(entry.key)) {
      const value = textOf(entry);
      if (value === undefined) refuse("phone_field_not_string");
      phones.push({ field: entry.key, value, source: entry.source, start: entry.start, end: entry.end });
      continue;
    }
    if (!mayBeObject(entry.key)) continue;
    if (objects.has(entry.key)) refuse("object_field_repeated");
    objects.add(entry.key);
    let object: Record<string, unknown> | undefined;
    const text = textOf(entry);
    if (text?.trimStart().startsWith("{")) {
      object = oneObject(text);
      if (object === undefined) refuse("object_text_not_one_object");
      for (const field of fields) {
        if (field.startsWith(`${entry.key}.`) && at(object, field.slice(entry.key.length + 1)) !== undefined)
          refuse("phone_field_in_json_text");
      }
    }
    if (entry.key === "transient_payload") {
      if (object !== undefined) picked = object.phone_region;
      else if (entry.kind === "object" && body !== undefined) {
        // The object as Go reads it: the last of duplicate keys.
        const region = nested.findLast(
          (m) => m.topKey === "transient_payload" && m.depth === 2 && m.path === "transient_payload.phone_region",
        );
        if (region !== undefined) picked = JSON.parse(body.text.slice(region.start, region.end));
      }
    }
  }
  // Inside the top-level objects of a JSON body (`{"traits":{"phone":…}}`): Kratos copies them as they came.
  for (const member of nested) {
    if (!fields.has(member.path) || body === undefined) continue;
    if (member.kind !== "string") refuse("phone_field_not_string");
    phones.push({
      field: member.path,
      value: JSON.parse(body.text.slice(member.start, member.end)) as string,
      source: body,
      start: member.start,
      end: member.end,
    });
  }
  const seen = new Set<string>();
  for (const phone of phones) {
    if (seen.has(phone.field)) refuse("phone_field_repeated");
    seen.add(phone.field);
  }

  if (phones.length > 0) {
    const region = regionOf(picked);
    for (const phone of phones) {
      const written = internationalForm(phone.value, region.region, phone.field.startsWith("traits."));
      if (written === undefined || written === phone.value) continue;
      const value = phone.source.encoding === "json" ? JSON.stringify(written) : encodeURIComponent(written);
      phone.source.splices.push({ start: phone.start, end: phone.end, value, field: phone.field });
    }
  }
  const rewritten = [...new Set([...query.splices, ...(body?.splices ?? [])].map((s) => s.field))];
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
  const bodyBytes =
    body === undefined || body.splices.length === 0
      ? input.body?.bytes
      : body.encoding === "json"
        ? encoder.encode(apply(body))
        : fromLatin1(apply(body));
  return { ok: true, query: query.splices.length === 0 ? input.query : apply(query), body: bodyBytes, rewritten, fields: values };
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

function apply(source: Source): string {
  const splices = [...source.splices].sort((a, b) => a.start - b.start);
  let out = "";
  let at = 0;
  for (const splice of splices) {
    out += source.text.slice(at, splice.start) + splice.value;
    at = splice.end;
  }
  return out + source.text.slice(at);
}
