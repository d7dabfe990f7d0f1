/**
 * Compares a presented key with a configured one without an early exit: the loop always runs
 * over the whole configured key, so the time depends on that key's length only, never on how
 * much of it a guess got right. Synchronous on purpose: WebCrypto's digest on Node runs on the
 * thread pool, and the round trip cost more than the rest of the request (test/bench).
 */
function sameKey(presented: string, key: string): boolean {
  let diff = presented.length ^ key.length;
  for (let i = 0; i < key.length; i++) diff |= presented.charCodeAt(i) ^ key.charCodeAt(i);
  return diff === 0;
}

/**
 * The key a request presents, in either form Kratos's `web_hook` auth produces
 * (`request/auth.go`): `api_key` → `Authorization: Bearer <key>`, `basic_auth` →
 * `Authorization: Basic base64(user:key)` (any user name).
 */
export function presentedKey(authorization: string | undefined): string | undefined {
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
 * Builds a check of the `Authorization` header against the configured keys. Every key is
 * compared in full (no early exit on a mismatch, none on a match).
 */
export function createAuthenticator(keys: readonly string[]): (authorization: string | undefined) => boolean {
  return (authorization) => {
    const key = presentedKey(authorization);
    if (key === undefined) return false;
    let matched = false;
    for (const known of keys) matched = sameKey(key, known) || matched;
    return matched;
  };
}

/**
 * A key as logs may show it: `sha256:` and the first 8 hex digits of its SHA-256, never the key.
 * The doctor prints the same id for the key a web_hook sends, so the two can be matched.
 */
export async function maskedKeyId(key: string): Promise<string> {
  return keyIdOf(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key))));
}

/** The id of a key from its SHA-256 digest, for runtimes that hash synchronously (the CLI). */
export function keyIdOf(sha256: Uint8Array): string {
  return `sha256:${Array.from(sha256.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("")}…`;
}
