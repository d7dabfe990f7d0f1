import { isPlainObject } from "../core/json.js";
import { KRATOS_DEFAULT_HEADER_ALLOWLIST } from "../kratos/header-allowlist.js";
import type { KratosFeatures } from "./kratos-version.js";

// Shared with kratos-hooks/testing (src/testing/ctx.ts), which may not import the CLI.
export { KRATOS_DEFAULT_HEADER_ALLOWLIST };

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
