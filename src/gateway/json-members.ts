import type { Refusal } from "./refusals.js";

/** A value inside a JSON object (not inside an array), and where it sits in the text. */
export interface JsonMember {
  /** The keys from the root, joined with "." (`{"traits":{"phone":…}}` and `{"traits.phone":…}` both give `traits.phone`). */
  path: string;
  /** The key of the top-level member it is in (`traits` for `traits.phone` written nested, `traits.phone` written dotted). */
  topKey: string;
  /** 1 for a top-level member, 2 for a member of a top-level object, and so on. */
  depth: number;
  kind: "string" | "object" | "array" | "number" | "boolean" | "null";
  /** Offsets of the value in the text (a string's quotes included). */
  start: number;
  end: number;
}

/** Why a text is not one JSON object the gateway reads: each a case where Go's decoder (Kratos) and ours could differ. */
export type JsonProblem = Extract<
  Refusal,
  "json_not_object" | "json_syntax" | "json_trailing_data" | "json_too_deep" | "json_duplicate_key"
>;

/**
 * Deeper documents are refused: Go's decoder allows 10,000 levels, no self-service body nests
 * like this, and the scan's recursion stays bounded.
 */
export const MAX_JSON_DEPTH = 64;

class Invalid extends Error {
  constructor(readonly problem: JsonProblem) {
    super(problem);
  }
}

const LITERALS = [
  ["true", "boolean"],
  ["false", "boolean"],
  ["null", "null"],
] as const;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;

/** Where a scan stands: the text, the offset it has reached, and the members listed so far. */
interface Scan {
  readonly text: string;
  i: number;
  readonly members: JsonMember[];
}

function fail(problem: JsonProblem = "json_syntax"): never {
  throw new Invalid(problem);
}

function skipSpace(scan: Scan): void {
  for (;;) {
    const c = scan.text.charCodeAt(scan.i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) scan.i++;
    else return;
  }
}

function expect(scan: Scan, ch: string): void {
  if (scan.text[scan.i] !== ch) fail();
  scan.i++;
}

/** Scans a string literal starting at `i` (the opening quote); returns whether it held an escape. */
function scanString(scan: Scan): boolean {
  expect(scan, '"');
  const { text } = scan;
  let escaped = false;
  for (;;) {
    const c = text.charCodeAt(scan.i);
    if (Number.isNaN(c) || c < 0x20) fail();
    scan.i++;
    if (c === 0x22) return escaped;
    if (c === 0x5c) {
      escaped = true;
      const e = text[scan.i++];
      if (e === "u") {
        if (!HEX4.test(text.slice(scan.i, scan.i + 4))) fail();
        scan.i += 4;
      } else if (e === undefined || !'"\\/bfnrt'.includes(e)) fail();
    }
  }
}

function scanLiteral(scan: Scan): JsonMember["kind"] {
  for (const [word, kind] of LITERALS) {
    if (scan.text.startsWith(word, scan.i)) {
      scan.i += word.length;
      return kind;
    }
  }
  NUMBER.lastIndex = scan.i;
  if (!NUMBER.test(scan.text)) fail();
  scan.i = NUMBER.lastIndex;
  return "number";
}

/**
 * A value at `path` (`undefined` inside arrays, where nothing is listed); `topKey` and `level`
 * describe the member it belongs to.
 */
function scanValue(scan: Scan, path: string | undefined, topKey: string, level: number, depth: number): void {
  if (depth > MAX_JSON_DEPTH) fail("json_too_deep");
  skipSpace(scan);
  const start = scan.i;
  const c = scan.text[scan.i];
  let kind: JsonMember["kind"];
  if (c === "{") {
    kind = "object";
    scanObject(scan, path, topKey, level, depth + 1);
  } else if (c === "[") {
    kind = "array";
    scanArray(scan, depth + 1);
  } else if (c === '"') {
    kind = "string";
    scanString(scan);
  } else kind = scanLiteral(scan);
  if (path !== undefined) scan.members.push({ path, topKey, depth: level, kind, start, end: scan.i });
}

function scanObject(scan: Scan, path: string | undefined, topKey: string, level: number, depth: number): void {
  const { text } = scan;
  expect(scan, "{");
  skipSpace(scan);
  if (text[scan.i] === "}") {
    scan.i++;
    return;
  }
  // Top level only: below it Kratos copies the object as it came and Go keeps the last.
  const seen = path !== undefined && level === 0 ? new Set<string>() : undefined;
  for (;;) {
    skipSpace(scan);
    const keyStart = scan.i;
    const escaped = scanString(scan);
    const key = escaped ? (JSON.parse(text.slice(keyStart, scan.i)) as string) : text.slice(keyStart + 1, scan.i - 1);
    if (seen !== undefined) {
      if (seen.has(key)) fail("json_duplicate_key");
      seen.add(key);
    }
    skipSpace(scan);
    expect(scan, ":");
    if (path === undefined) scanValue(scan, undefined, topKey, level, depth);
    else scanValue(scan, path === "" ? key : `${path}.${key}`, level === 0 ? key : topKey, level + 1, depth);
    skipSpace(scan);
    if (text[scan.i] === ",") {
      scan.i++;
      continue;
    }
    expect(scan, "}");
    return;
  }
}

function scanArray(scan: Scan, depth: number): void {
  expect(scan, "[");
  skipSpace(scan);
  if (scan.text[scan.i] === "]") {
    scan.i++;
    return;
  }
  for (;;) {
    scanValue(scan, undefined, "", 0, depth);
    skipSpace(scan);
    if (scan.text[scan.i] === ",") {
      scan.i++;
      continue;
    }
    expect(scan, "]");
    return;
  }
}

/**
 * Lists every value inside the objects of a JSON document (RFC 8259) with its position, so that a
 * value can be replaced without re-serializing (and so changing) anything else. The text must be
 * exactly one object, with nothing but white space around it: Kratos's decoder reads the first
 * value and ignores what follows (ory/x decoderx `decodeJSONForm`), so trailing data is refused
 * rather than read one way here and another there. A key given twice at the top level is refused
 * too (Kratos keeps the last, a reader may keep the first). Values inside arrays are not listed:
 * no field the gateway reads sits in an array.
 */
export function scanJsonObject(text: string): { ok: true; members: JsonMember[] } | { ok: false; problem: JsonProblem } {
  const scan: Scan = { text, i: 0, members: [] };
  try {
    skipSpace(scan);
    if (text[scan.i] !== "{") return { ok: false, problem: "json_not_object" };
    scanObject(scan, "", "", 0, 1);
    skipSpace(scan);
    if (scan.i !== text.length) return { ok: false, problem: "json_trailing_data" };
    return { ok: true, members: scan.members };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, problem: error.problem };
    throw error;
  }
}
