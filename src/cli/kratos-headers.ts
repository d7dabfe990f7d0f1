import { isPlainObject } from "../core/json.js";
import type { KratosFeatures } from "./kratos-version.js";

/**
 * The request headers Kratos puts in a web_hook's `ctx.request_headers` unless told otherwise:
 * v1.3.1's fixed `RequestHeaderAllowList` (`selfservice/hook/web_hook.go@v1.3.1`), and the
 * default of `clients.web_hook.header_allowlist` from v25.4.0 (contract §1.2).
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

/** An RFC 9110 token: the characters a header name may have. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * A header name as Go's `textproto.CanonicalMIMEHeaderKey` writes it, which is how Kratos
 * compares names with its allowlist: upper case after each hyphen and at the start, lower case
 * elsewhere; a name with a character outside a token is left as it is.
 */
export function canonicalHeaderKey(name: string): string {
  if (!TOKEN.test(name)) return name;
  let upper = true;
  let out = "";
  for (const c of name) {
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === "-";
  }
  return out;
}

/** The headers that reach a web_hook under one release, and where that list comes from. */
export interface ForwardedHeaders {
  /** Canonical names. */
  names: ReadonlySet<string>;
  /**
   * `fixed`: v1.3.1's 17 names, whatever kratos.yml says; `configured`: kratos.yml's
   * `clients.web_hook.header_allowlist`, which replaces the default (an empty list forwards
   * nothing, measured on v26.2.0); `default`: v25.4+ without the key.
   */
  source: "fixed" | "configured" | "default";
  /** kratos.yml sets the key (read only from v25.4; v1.3.1 accepts and ignores it). */
  configuredInFile: boolean;
}

/** `clients.web_hook.header_allowlist` of kratos.yml, when it is a list. */
function configuredAllowlist(data: Record<string, unknown>): string[] | undefined {
  const clients = isPlainObject(data.clients) ? data.clients : undefined;
  const webHook = clients !== undefined && isPlainObject(clients.web_hook) ? clients.web_hook : undefined;
  const list = webHook?.header_allowlist;
  return Array.isArray(list) ? list.filter((name): name is string => typeof name === "string") : undefined;
}

/** Which request headers Kratos passes to web_hooks with this kratos.yml, on the judged release. */
export function forwardedHeaders(data: Record<string, unknown>, features: KratosFeatures): ForwardedHeaders {
  const configured = configuredAllowlist(data);
  const configuredInFile = configured !== undefined;
  const names = (list: readonly string[]) => new Set(list.map(canonicalHeaderKey));
  if (!features.configurableHeaderAllowlist) return { names: names(KRATOS_DEFAULT_HEADER_ALLOWLIST), source: "fixed", configuredInFile };
  if (configured === undefined) return { names: names(KRATOS_DEFAULT_HEADER_ALLOWLIST), source: "default", configuredInFile };
  return { names: names(configured), source: "configured", configuredInFile };
}
