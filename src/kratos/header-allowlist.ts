import { HTTP_TOKEN } from "../core/http-token.js";

/**
 * The request headers Kratos puts in a web_hook's `ctx.request_headers` unless told otherwise:
 * v1.3.1's fixed `RequestHeaderAllowList` (`selfservice/hook/web_hook.go@v1.3.1`), and the
 * default of `clients.web_hook.header_allowlist` from v25.4.0 (contract §1.2). Canonical names
 * (Go's `textproto.CanonicalMIMEHeaderKey`), as Kratos compares them.
 */
export const KRATOS_DEFAULT_HEADER_ALLOWLIST = [
  "Accept",
  "Accept-Encoding",
  "Accept-Language",
  "Content-Length",
  "Content-Type",
  "Origin",
  "Priority",
  "Referer",
  "Sec-Ch-Ua",
  "Sec-Ch-Ua-Mobile",
  "Sec-Ch-Ua-Platform",
  "Sec-Fetch-Dest",
  "Sec-Fetch-Mode",
  "Sec-Fetch-Site",
  "Sec-Fetch-User",
  "True-Client-Ip",
  "User-Agent",
] as const;

/**
 * A header name as Go's `textproto.CanonicalMIMEHeaderKey` writes it, which is how Kratos names
 * `ctx.request_headers` and compares names with its allowlist: upper case after each hyphen and
 * at the start, lower case elsewhere (`user-agent` → `User-Agent`); a name with a character
 * outside a token is left as it is.
 */
export function canonicalHeaderKey(name: string): string {
  if (!HTTP_TOKEN.test(name)) return name;
  let upper = true;
  let out = "";
  for (const c of name) {
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === "-";
  }
  return out;
}
