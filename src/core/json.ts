import type { JsonObject } from "./decision.js";

/** An object as JSON has them: not null, not an array (what `JSON.parse` gives for `{…}`). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A JSON object that is also a plain one: not a Map, a Date or a class instance. What a policy's
 * decision must be made of, since the answer is its JSON.
 */
export function isPlainObject(value: unknown): value is JsonObject {
  if (!isJsonObject(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * True for a trait value that holds nothing: missing, null, or a blank string (an empty optional
 * form field). Policies treat such traits as absent and leave them to the identity schema.
 */
export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === "string" && value.trim() === "");
}

/** Structural equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** Reads a dotted path (`address.mobile`) from an object. */
export function getPath(root: JsonObject, path: string): unknown {
  let node: unknown = root;
  for (const key of path.split(".")) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** Returns a copy of `root` with `value` at a dotted path; intermediate objects must exist. */
export function setPath(root: JsonObject, path: string, value: unknown): JsonObject {
  const [head = "", ...rest] = path.split(".");
  if (rest.length === 0) return { ...root, [head]: value };
  const child = root[head];
  return { ...root, [head]: setPath(isPlainObject(child) ? child : {}, rest.join("."), value) };
}
