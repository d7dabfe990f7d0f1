const encoder = new TextEncoder();

async function digest(value: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value)));
}

/** Compares two 32-byte digests without an early exit. */
function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * The key a request presents, in either form Kratos's `web_hook` auth produces
 * (`request/auth.go`): `api_key` → `Authorization: Bearer <key>`, `basic_auth` →
 * `Authorization: Basic base64(user:key)` (any user name).
 */
function presentedKey(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const match = /^(Bearer|Basic)[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  if (match === null) return undefined;
  const [, scheme = "", token = ""] = match;
  if (scheme.toLowerCase() === "bearer") return token;
  try {
    const bytes = Uint8Array.from(atob(token), (c) => c.charCodeAt(0));
    const decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    const colon = decoded.indexOf(":");
    return colon < 0 ? undefined : decoded.slice(colon + 1);
  } catch {
    return undefined;
  }
}

/**
 * Builds a check of the `Authorization` header against the configured keys. Both sides are
 * hashed to SHA-256 first, so the comparison takes the same time whatever the key's length or
 * content, and every key is compared (no early exit on a match).
 */
export function createAuthenticator(keys: readonly string[]): (authorization: string | undefined) => Promise<boolean> {
  const digests = Promise.all(keys.map(digest));
  return async (authorization) => {
    const key = presentedKey(authorization);
    const candidate = await digest(key ?? "");
    let matched = false;
    for (const known of await digests) matched = sameDigest(candidate, known) || matched;
    return key !== undefined && matched;
  };
}
