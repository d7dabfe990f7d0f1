import { isJsonObject } from "../core/json.js";
import { refuse } from "./refusals.js";
import { type Entry, type ReadSource, type Source, textOf } from "./submission-sources.js";

/** A phone field as Kratos will read it, and where its value sits. */
export interface Phone {
  field: string;
  value: string;
  source: Source;
  start: number;
  end: number;
}

/** The phone fields of a submission, and the region it picked (`transient_payload.phone_region`). */
export interface Phones {
  phones: Phone[];
  picked: unknown;
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

/**
 * The object in a text given for a field that may be an object (a text that looks like one: `{`
 * after white space), or undefined for any other value. It must be exactly one object, with no
 * phone field inside it.
 */
function objectInText(entry: Entry, fields: ReadonlySet<string>): Record<string, unknown> | undefined {
  const text = textOf(entry);
  if (!text?.trimStart().startsWith("{")) return undefined;
  const object = oneObject(text);
  if (object === undefined) refuse("object_text_not_one_object");
  for (const field of fields) {
    if (field.startsWith(`${entry.key}.`) && at(object, field.slice(entry.key.length + 1)) !== undefined)
      refuse("phone_field_in_json_text");
  }
  return object;
}

/** The `phone_region` of a `transient_payload` entry: from its JSON text, or from the object in a JSON body. */
function regionPicked(entry: Entry, object: Record<string, unknown> | undefined, body: ReadSource | undefined): unknown {
  if (object !== undefined) return object.phone_region;
  if (entry.kind !== "object" || body === undefined) return undefined;
  // The object as Go reads it: the last of duplicate keys.
  const region = body.nested.findLast(
    (m) => m.topKey === "transient_payload" && m.depth === 2 && m.path === "transient_payload.phone_region",
  );
  return region === undefined ? undefined : JSON.parse(body.source.text.slice(region.start, region.end));
}

/** The phone fields inside the top-level objects of a JSON body (`{"traits":{"phone":…}}`). */
function nestedPhones(body: ReadSource, fields: ReadonlySet<string>): Phone[] {
  const phones: Phone[] = [];
  // Kratos copies these objects as they came.
  for (const member of body.nested) {
    if (!fields.has(member.path)) continue;
    if (member.kind !== "string") refuse("phone_field_not_string");
    phones.push({
      field: member.path,
      value: JSON.parse(body.source.text.slice(member.start, member.end)) as string,
      source: body.source,
      start: member.start,
      end: member.end,
    });
  }
  return phones;
}

/**
 * Each phone field once, in one place; its value as Kratos will read it. `entries` are the query's
 * and the body's top-level fields, in that order; `body` the body as read, for its nested members.
 * Refuses a phone field that is not a string or is given twice, and an object field given twice or
 * as a JSON text that is not exactly one object or holds a phone field.
 */
export function findPhones(entries: readonly Entry[], body: ReadSource | undefined, fields: ReadonlySet<string>): Phones {
  const phones: Phone[] = [];
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
    const object = objectInText(entry, fields);
    // Given once (a second one is refused above), so this is the region Kratos reads.
    if (entry.key === "transient_payload") picked = regionPicked(entry, object, body);
  }
  // One by one: a spread would pass every nested duplicate as an argument, and enough of them overflow the stack.
  if (body !== undefined) for (const phone of nestedPhones(body, fields)) phones.push(phone);
  const seen = new Set<string>();
  for (const phone of phones) {
    if (seen.has(phone.field)) refuse("phone_field_repeated");
    seen.add(phone.field);
  }
  return { phones, picked };
}
