/**
 * JSON pointers (RFC 6901), the one place that escapes and reads them: the plain form
 * (`/traits/a~1b`, a JSON Patch path) and the URI fragment form Kratos uses (`#/traits/a~1b`,
 * a message's `instance_ptr`, a schema finding's path).
 *
 * A dotted trait path (`contact.mobile`) is a list of keys: a dot always separates two keys, so
 * a key that holds a dot has no dotted path (the dotted paths of the config, `getPath` and
 * `setPath` share this limit).
 */

/** The pointer Kratos shows on the whole form rather than on one field. */
export const GLOBAL_POINTER = "#/";

/** RFC 6901 §3: `~` → `~0`, then `/` → `~1` (in this order, so `~1` in a key stays a key). */
export function escapeToken(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** RFC 6901 §4: `~1` → `/`, then `~0` → `~` (in this order, so `~01` is the key `~1`). */
export function unescapeToken(token: string): string {
  return token.replaceAll("~1", "/").replaceAll("~0", "~");
}

/** `appendKeys("#/a", "b/c", "d")` → `#/a/b~1c/d`; `appendKeys("", "a")` → `/a`. */
export function appendKeys(pointer: string, ...keys: readonly string[]): string {
  return keys.reduce((at, key) => `${at}/${escapeToken(key)}`, pointer);
}

/**
 * The keys of a pointer, plain or URI fragment form: `#/a/b~1c` → `["a", "b/c"]`; `""` and `#`
 * (the whole document) → `[]`. Anything else that does not start with `/` is no pointer.
 */
export function pointerKeys(pointer: string): string[] {
  const path = pointer.startsWith("#") ? pointer.slice(1) : pointer;
  if (path === "") return [];
  if (!path.startsWith("/")) throw new Error(`not a JSON pointer: ${JSON.stringify(pointer)}`);
  return path.slice(1).split("/").map(unescapeToken);
}

/** `phone` → `#/traits/phone`; `address.mobile` → `#/traits/address/mobile` (each key escaped). */
export function traitPointer(path: string): string {
  return appendKeys("#/traits", ...path.split("."));
}

/**
 * The dotted path of the field a Kratos pointer names: `#/traits/contact/mobile` →
 * `traits.contact.mobile`. `null` for the whole form: `#/`, and any pointer that does not start
 * with `#/`, which the service answers Kratos on the global pointer (kratos/response.ts).
 */
export function fieldPathOf(pointer: string): string | null {
  if (pointer === GLOBAL_POINTER || !pointer.startsWith("#/")) return null;
  return pointerKeys(pointer).join(".");
}
