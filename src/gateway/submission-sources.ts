import { type FormPair, parseFormPairs } from "./form-pairs.js";
import { type JsonMember, scanJsonObject } from "./json-members.js";
import { refuse } from "./refusals.js";

/** The two encodings of a body the gateway reads (`bodyFormatOf` tells them by the Content-Type). */
export type BodyFormat = "json" | "form";

/** Where a source's text came from, and how a value in it is written. */
export interface Source {
  encoding: BodyFormat;
  text: string;
  splices: Splice[];
}

/** A value replaced in a source's text: `start` to `end` becomes `value`, the new text of `field`. */
export interface Splice {
  start: number;
  end: number;
  value: string;
  field: string;
}

/** A field as Kratos's decoder lists it: a top-level key of a JSON body, or a pair of a form or query. */
export interface Entry {
  key: string;
  /** The value, for a string: a form value as decoded, or (`undefined` until read) a JSON string's literal. */
  text: string | undefined;
  kind: JsonMember["kind"];
  source: Source;
  start: number;
  end: number;
}

/** A query or a body as read: its top-level entries and, for JSON, the members nested in them. */
export interface ReadSource {
  source: Source;
  entries: Entry[];
  /** The members inside the top-level objects and their objects (`traits.phone` written nested). */
  nested: JsonMember[];
}

/** An entry's string value (a JSON literal is decoded only when a rule needs it), or undefined for another kind. */
export function textOf(entry: Entry): string | undefined {
  if (entry.kind !== "string") return undefined;
  entry.text ??= JSON.parse(entry.source.text.slice(entry.start, entry.end)) as string;
  return entry.text;
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

/** A query, or a form body as latin1 text: its pairs as entries, in order. Refuses what Go would not parse whole. */
export function readForm(text: string): ReadSource {
  const source: Source = { encoding: "form", text, splices: [] };
  const parsed = parseFormPairs(text);
  if (!parsed.ok) refuse(parsed.problem);
  const entries = parsed.pairs.map((pair: FormPair) => ({
    key: pair.key,
    text: pair.value,
    kind: "string" as const,
    source,
    start: pair.valueStart,
    end: pair.valueEnd,
  }));
  return { source, entries, nested: [] };
}

/** A JSON body: its top-level members as entries, the rest as nested members. Refuses what is not one object in UTF-8. */
function readJson(bytes: Uint8Array): ReadSource {
  let text: string;
  try {
    text = fatalUTF8.decode(bytes);
  } catch {
    refuse("json_not_utf8");
  }
  const source: Source = { encoding: "json", text, splices: [] };
  const scanned = scanJsonObject(text);
  if (!scanned.ok) refuse(scanned.problem);
  const entries: Entry[] = [];
  const nested: JsonMember[] = [];
  for (const member of scanned.members) {
    if (member.depth === 1) {
      entries.push({ key: member.path, text: undefined, kind: member.kind, source, start: member.start, end: member.end });
    } else nested.push(member);
  }
  return { source, entries, nested };
}

/** A body, read by its format. */
export function readBody(body: { format: BodyFormat; bytes: Uint8Array }): ReadSource {
  return body.format === "form" ? readForm(latin1(body.bytes)) : readJson(body.bytes);
}

/** A source's text with its splices applied: every other character as it came. */
export function spliced(source: Source): string {
  const splices = [...source.splices].sort((a, b) => a.start - b.start);
  let out = "";
  let at = 0;
  for (const splice of splices) {
    out += source.text.slice(at, splice.start) + splice.value;
    at = splice.end;
  }
  return out + source.text.slice(at);
}

/** The bytes to forward for a body: the very bytes received when nothing was spliced. */
export function forwardedBytes(body: Source, received: Uint8Array): Uint8Array {
  if (body.splices.length === 0) return received;
  return body.encoding === "json" ? encoder.encode(spliced(body)) : fromLatin1(spliced(body));
}
