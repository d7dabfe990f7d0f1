/**
 * Pseudonyms: what the shield keeps and logs instead of an identifier, a number or an address.
 * A keyed hash (HMAC-SHA-256 with `GATEWAY_SHIELD_SECRET`), so that nobody who reads the store or
 * the logs can test a guess without the secret, and every instance sharing the secret (and a
 * Redis) names one person the same way.
 */
export interface Pseudonyms {
  /** The pseudonym of a value: 22 characters of base64url (128 bits of the HMAC). */
  of(kind: string, value: string): Promise<string>;
  /** An HMAC over `text`, base64url, for tokens the gateway issues (the device marker). */
  sign(text: string): Promise<string>;
}

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** HMAC-SHA-256 of a text under the secret: Web Crypto by default; Node's own (synchronous, no thread pool) where given. */
export type Hmac = (secret: string, text: string) => Uint8Array | Promise<Uint8Array>;

function webCryptoHmac(secret: string): (text: string) => Promise<Uint8Array> {
  const key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return async (text) => new Uint8Array(await crypto.subtle.sign("HMAC", await key, encoder.encode(text)));
}

export function createPseudonyms(secret: string, hmac?: Hmac): Pseudonyms {
  if (secret.length < 16) throw new TypeError("the shield's secret must be at least 16 characters");
  const mac = hmac === undefined ? webCryptoHmac(secret) : async (text: string) => hmac(secret, text);
  return {
    of: async (kind, value) => base64url((await mac(`${kind}\u0000${value}`)).subarray(0, 16)),
    sign: async (text) => base64url((await mac(`sign\u0000${text}`)).subarray(0, 16)),
  };
}

/** A random secret for one process (the memory store), when none is configured. */
export function randomSecret(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Expands an IPv6 address to its eight groups, or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  let tail: number[] = [];
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    tail = [(a << 8) | b, (c << 8) | d];
    text = text.slice(0, v4.index);
    // `::ffff:` before the dotted quad: its last colon separates the quad, unless it ends `::`.
    if (text.endsWith(":") && !text.endsWith("::")) text = text.slice(0, -1);
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined) => (part === undefined || part === "" ? [] : part.split(":").map((g) => Number.parseInt(g, 16)));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const known = head.length + rest.length + tail.length;
  if (halves.length === 1 && known !== 8) return undefined;
  if (known > 8) return undefined;
  const groups = [...head, ...Array<number>(8 - known).fill(0), ...rest, ...tail];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * The client as the shield counts it: an IPv4 address as it is, an IPv6 address by its /64 (one
 * subscriber's prefix: a host picks any address in it at will), an IPv4-mapped IPv6 address as
 * IPv4. Undefined for no or an unreadable address.
 */
export function clientKey(address: string | undefined): string | undefined {
  if (address === undefined || address === "") return undefined;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(address)) return address;
  const groups = ipv6Groups(address);
  if (groups === undefined) return undefined;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/**
 * Whether an address is one clients never have on the internet: loopback, RFC 1918, carrier-grade
 * NAT (100.64/10), link-local, IPv6 unique-local and loopback. A gateway whose peers all have one
 * sits behind a proxy of the operator's.
 */
export function isPrivateAddress(address: string | undefined): boolean {
  if (address === undefined) return true;
  const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(clientKey(address)?.replace("::/64", "") ?? "");
  if (v4 !== null) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 10 ||
      a === 127 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254)
    );
  }
  const groups = ipv6Groups(address);
  if (groups === undefined) return true;
  const first = groups[0] ?? 0;
  const loopback = groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1;
  return loopback || (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}
