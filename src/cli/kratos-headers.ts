import { isJsonObject } from "../core/json.js";
import { canonicalHeaderKey, KRATOS_DEFAULT_HEADER_ALLOWLIST } from "../kratos/header-allowlist.js";
import type { KratosFeatures } from "./kratos-version.js";

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
  const clients = isJsonObject(data.clients) ? data.clients : undefined;
  const webHook = clients !== undefined && isJsonObject(clients.web_hook) ? clients.web_hook : undefined;
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

/** What a web_hook's `auth` makes Kratos add to each call: one header, or one cookie. */
export type KratosAuthSent = { in: "header" | "cookie"; name: string; value: string };

/** Go writes a header value trimmed of spaces and tabs (`net/http` `Header.Write`), and the server reads it so. */
const trimOWS = (value: string) => value.replace(/^[ \t]+|[ \t]+$/g, "");

/**
 * What Kratos sends for a web_hook's `auth` config (`request/auth.go`): `api_key` puts `value`
 * in the header (or the cookie, `in: cookie`) named `name`; `basic_auth` sends
 * `Authorization: Basic base64(user ":" password)`, an absent user or password being empty.
 * Undefined when `auth` sends nothing (no auth, or an api_key without a name).
 */
export function kratosAuthSent(auth: unknown): KratosAuthSent | undefined {
  if (!isJsonObject(auth)) return undefined;
  const settings = isJsonObject(auth.config) ? auth.config : {};
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  if (auth.type === "basic_auth") {
    const credentials = Buffer.from(`${text(settings.user)}:${text(settings.password)}`, "utf8").toString("base64");
    return { in: "header", name: "Authorization", value: `Basic ${credentials}` };
  }
  if (auth.type !== "api_key" || typeof settings.name !== "string" || settings.name === "") return undefined;
  const value = text(settings.value);
  return settings.in === "cookie"
    ? { in: "cookie", name: settings.name, value }
    : { in: "header", name: settings.name, value: trimOWS(value) };
}

/** The `Authorization` header Kratos sends for a web_hook's `auth`, when it sends one. */
export function kratosAuthorization(auth: unknown): string | undefined {
  const sent = kratosAuthSent(auth);
  return sent?.in === "header" && sent.name.toLowerCase() === "authorization" ? sent.value : undefined;
}
