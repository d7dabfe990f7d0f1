// Helpers for turning zod issues into messages people read; shared by the config parser and the
// hook payload parser. Not core: core knows nothing of how its inputs are validated.

/** Reads a value at a path of keys and indices, as reported by zod; undefined where it stops. */
export function valueAtPath(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** A zod message without its category prefix ("Too small: expected …" → "expected …"). */
export function withoutZodPrefix(message: string): string {
  return message.replace(/^[A-Z][a-z]+(?: [a-z]+)?: /, "");
}
