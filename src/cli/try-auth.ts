import { isJsonObject } from "../core/json.js";
import { acceptedKeys, keyRefusal } from "./doctor-auth.js";
import { kratosAuthSent } from "./kratos-headers.js";
import { UsageError } from "./usage.js";

/** The keys the in-process service accepts, and whether that is the development key. */
export interface ServiceKeys {
  keys: readonly string[];
  usingDevKey: boolean;
}

/** The keys the service would accept (HOOKS_API_KEYS, else the development key); a bad value is a usage error. */
export function serviceKeys(): ServiceKeys {
  const accepted = acceptedKeys(process.env);
  if (!accepted.ok) throw new UsageError(accepted.message);
  return accepted;
}

/** The headers Kratos sends for a web_hook config (`request/builder.go`, `request/auth.go`). */
export function kratosHeaders(config: Record<string, unknown>): Record<string, string> {
  const headers: Record<string, string> = {};
  if (isJsonObject(config.headers)) {
    for (const [k, v] of Object.entries(config.headers)) if (typeof v === "string") headers[k] = v;
  }
  if (!Object.keys(headers).some((k) => k.toLowerCase() === "content-type")) headers["Content-Type"] = "application/json";
  const auth = kratosAuthSent(config.auth);
  if (auth?.in === "cookie") headers.Cookie = `${auth.name}=${auth.value}`;
  else if (auth !== undefined) headers[auth.name] = auth.value;
  return headers;
}

/**
 * The note for a 401: which key the in-process service wanted (`keys`; undefined for a handler
 * at `--url`, whose keys try cannot know), and how to make the two sides agree.
 */
export function unauthorizedNote(config: Record<string, unknown>, keys: ServiceKeys | undefined): string {
  const why =
    (keys === undefined ? undefined : keyRefusal(config, keys.keys, keys.usingDevKey)) ??
    'the handler refused the credentials kratos.yml sends (401): Kratos shows the client a generic error and logs "error while parsing webhook response: got no validation errors"';
  return `${why}; set the same key in HOOKS_API_KEYS and in the hook's auth (\`kratos-hooks doctor\` lists every hook it affects)`;
}
