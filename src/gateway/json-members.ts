/** A string value inside a JSON object, where it sits in the text. */
export interface StringMember {
  /** The keys from the root, joined with "." (`{"traits":{"phone":…}}` and `{"traits.phone":…}` both give `traits.phone`). */
  path: string;
  /** Offsets of the quoted literal in the text, quotes included. */
  start: number;
  end: number;
}

/** Deeper documents are left alone: no self-service body nests like this, and recursion stays bounded. */
const MAX_DEPTH = 64;

class Invalid extends Error {}

/**
 * Lists the string values of every object member in a JSON document with their positions, so
 * that a value can be replaced without re-serializing (and so changing) anything else. Returns
 * undefined unless the whole text is one valid JSON object (RFC 8259), as Kratos would read it.
 * Values inside arrays are not listed: no phone field of a self-service body is in an array.
 */
export function findStringMembers(text: string): StringMember[] | undefined {
  const members: StringMember[] = [];
  let i = 0;

  const fail = (): never => {
    throw new Invalid();
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
  const scanLiteral = () => {
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    number.lastIndex = i;
    if (!number.test(text)) fail();
    i = number.lastIndex;
  };
  const scanValue = (path: string | undefined, depth: number) => {
    if (depth > MAX_DEPTH) fail();
    skipSpace();
    const c = text[i];
    if (c === "{") scanObject(path, depth + 1);
    else if (c === "[") scanArray(depth + 1);
    else if (c === '"') {
      const start = i;
      const end = scanString();
      if (path !== undefined) members.push({ path, start, end });
    } else scanLiteral();
  };
  /** `path` is undefined inside arrays, where nothing is listed. */
  const scanObject = (path: string | undefined, depth: number) => {
    expect("{");
    skipSpace();
    if (text[i] === "}") {
      i++;
      return;
    }
    for (;;) {
      skipSpace();
      const keyStart = i;
      const key = JSON.parse(text.slice(keyStart, scanString())) as string;
      skipSpace();
      expect(":");
      scanValue(path === undefined ? undefined : path === "" ? key : `${path}.${key}`, depth);
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
    if (text[i] !== "{") return undefined;
    scanObject("", 1);
    skipSpace();
    return i === text.length ? members : undefined;
  } catch (error) {
    if (error instanceof Invalid) return undefined;
    throw error;
  }
}
