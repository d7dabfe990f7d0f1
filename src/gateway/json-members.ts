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
  const members: JsonMember[] = [];
  let i = 0;

  const fail = (problem: JsonProblem = "json_syntax"): never => {
    throw new Invalid(problem);
  };
  const skipSpace = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const expect = (ch: string) => {
    if (text[i] !== ch) fail();
    i++;
  };
  /** Scans a string literal starting at `i` (the opening quote); returns its end offset. */
  const scanString = (): number => {
    expect('"');
    for (;;) {
      const c = text.charCodeAt(i);
      if (Number.isNaN(c) || c < 0x20) fail();
      i++;
      if (c === 0x22) return i;
      if (c === 0x5c) {
        const e = text[i++];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i, i + 4))) fail();
          i += 4;
        } else if (e === undefined || !'"\\/bfnrt'.includes(e)) fail();
      }
    }
  };
  const scanLiteral = (): JsonMember["kind"] => {
    for (const [word, kind] of [
      ["true", "boolean"],
      ["false", "boolean"],
      ["null", "null"],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return kind;
      }
    }
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    number.lastIndex = i;
    if (!number.test(text)) fail();
    i = number.lastIndex;
    return "number";
  };
  /** `at` is undefined inside arrays, where nothing is listed. */
  const scanValue = (at: { path: string; topKey: string; depth: number } | undefined, depth: number) => {
    if (depth > MAX_JSON_DEPTH) fail("json_too_deep");
    skipSpace();
    const start = i;
    const c = text[i];
    let kind: JsonMember["kind"];
    if (c === "{") {
      kind = "object";
      scanObject(at, depth + 1);
    } else if (c === "[") {
      kind = "array";
      scanArray(depth + 1);
    } else if (c === '"') {
      kind = "string";
      scanString();
    } else kind = scanLiteral();
    if (at !== undefined) members.push({ ...at, kind, start, end: i });
  };
  const scanObject = (at: { path: string; topKey: string; depth: number } | undefined, depth: number) => {
    expect("{");
    skipSpace();
    if (text[i] === "}") {
      i++;
      return;
    }
    const seen = at === undefined ? undefined : new Set<string>();
    for (;;) {
      skipSpace();
      const keyStart = i;
      const key = JSON.parse(text.slice(keyStart, scanString())) as string;
      // Top level only: below it Kratos copies the object as it came and Go keeps the last.
      if (at?.depth === 0) {
        if (seen?.has(key)) fail("json_duplicate_key");
        seen?.add(key);
      }
      skipSpace();
      expect(":");
      const child =
        at === undefined
          ? undefined
          : { path: at.path === "" ? key : `${at.path}.${key}`, topKey: at.depth === 0 ? key : at.topKey, depth: at.depth + 1 };
      scanValue(child, depth);
      skipSpace();
      if (text[i] === ",") {
        i++;
        continue;
      }
      expect("}");
      return;
    }
  };
  const scanArray = (depth: number) => {
    expect("[");
    skipSpace();
    if (text[i] === "]") {
      i++;
      return;
    }
    for (;;) {
      scanValue(undefined, depth);
      skipSpace();
      if (text[i] === ",") {
        i++;
        continue;
      }
      expect("]");
      return;
    }
  };

  try {
    skipSpace();
    if (text[i] !== "{") return { ok: false, problem: "json_not_object" };
    scanObject({ path: "", topKey: "", depth: 0 }, 1);
    skipSpace();
    if (i !== text.length) return { ok: false, problem: "json_trailing_data" };
    return { ok: true, members };
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, problem: error.problem };
    throw error;
  }
}
