import { createHash } from "node:crypto";
import { parseRuntimeSettings } from "../config/env.js";
import { ConfigError } from "../config/parse.js";
import { isJsonObject } from "../core/json.js";
import { createAuthenticator, keyIdOf, presentedKey } from "../http/auth.js";
import { finding, type YamlFinding } from "./doctor-finding.js";
import { listHooks, routeOf } from "./kratos-config.js";
import { kratosAuthorization } from "./kratos-headers.js";

/**
 * The keys the service would accept, read as the server reads them: HOOKS_API_KEYS, else the
 * development key. Production mode is left out on purpose: the doctor compares keys, and the
 * server's own start-up check (`config check`) speaks for production.
 */
export function acceptedKeys(
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; keys: readonly string[]; usingDevKey: boolean } | { ok: false; message: string } {
  try {
    const settings = parseRuntimeSettings({ HOOKS_API_KEYS: env.HOOKS_API_KEYS }, { on: false, because: "" });
    return { ok: true, keys: settings.apiKeys, usingDevKey: settings.usingDevKey };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, message: error.message };
    throw error;
  }
}

/** A key as the service's 401 log line shows it (`maskedKeyId` in http/auth.ts), hashed synchronously. */
export function maskedKeyId(key: string): string {
  return keyIdOf(createHash("sha256").update(key).digest());
}

/**
 * The key a web_hook's `auth` makes Kratos send, read by the service's own rule: the
 * Authorization header Kratos builds from it (`kratosAuthorization`) through `presentedKey`
 * (src/http/auth.ts), so `bearer <key>` and `Basic` count exactly as the server counts them.
 * `at`: the auth.config key that holds it. Undefined when the service reads no key from what
 * Kratos sends, or an empty one (doctor-hooks.ts reports those as auth-missing/auth-mismatch).
 */
export function sentKey(config: Record<string, unknown>): { key: string; at: string[] } | undefined {
  const auth = isJsonObject(config.auth) ? config.auth : undefined;
  const key = presentedKey(kratosAuthorization(auth));
  if (key === undefined || key === "") return undefined;
  return { key, at: [auth?.type === "basic_auth" ? "password" : "value"] };
}

/** Why the service would answer 401 to the key this web_hook sends, or undefined when it accepts it. */
export function keyRefusal(config: Record<string, unknown>, accepted: readonly string[], usingDevKey: boolean): string | undefined {
  const sent = sentKey(config);
  if (sent === undefined || createAuthenticator(accepted)(kratosAuthorization(config.auth))) return undefined;
  const against = usingDevKey
    ? "the development key (HOOKS_API_KEYS is unset)"
    : `none of the ${accepted.length} key(s) in HOOKS_API_KEYS (${accepted.map(maskedKeyId).join(", ")})`;
  return `the key this web_hook sends (${maskedKeyId(sent.key)}) is ${against}: kratos-hooks answers 401 and Kratos fails the flow with "error while parsing webhook response: got no validation errors"`;
}

/** One finding per routed web_hook whose key the service would refuse with 401. */
export function keyFindings(data: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): YamlFinding[] {
  const accepted = acceptedKeys(env);
  if (!accepted.ok) {
    return [
      finding({
        code: "api-keys-invalid",
        effect: "fails_at_runtime",
        at: [],
        path: "HOOKS_API_KEYS",
        message: `${accepted.message}; the service refuses to start, so every hook fails`,
        fix: "fix HOOKS_API_KEYS, then run kratos-hooks config check",
      }),
    ];
  }
  const found: YamlFinding[] = [];
  for (const entry of listHooks(data)) {
    const route = entry.name === "web_hook" ? routeOf(entry.config?.url) : null;
    if (entry.config === undefined || route === null || !("id" in route)) continue;
    const refusal = keyRefusal(entry.config, accepted.keys, accepted.usingDevKey);
    const sent = sentKey(entry.config);
    if (refusal === undefined || sent === undefined) continue;
    found.push(
      finding({
        code: "auth-key-unknown",
        effect: "fails_at_runtime",
        at: [...entry.path, "config", "auth", "config", ...sent.at],
        message: refusal,
        fix:
          sent.at[0] === "password"
            ? "set auth.config.password to one of HOOKS_API_KEYS (or add this key to HOOKS_API_KEYS)"
            : "set auth.config.value to Bearer <one of HOOKS_API_KEYS> (or add this key to HOOKS_API_KEYS, comma-separated)",
      }),
    );
  }
  return found;
}
