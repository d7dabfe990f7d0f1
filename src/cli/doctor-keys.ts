import { editDistance } from "../config/parse.js";
import { isJsonObject } from "../core/json.js";
import { SELF_SERVICE_FLOWS, type SelfServiceFlow } from "../kratos/self-service.js";
import { finding, type YamlFinding } from "./doctor-finding.js";
import { listHooks } from "./kratos-config.js";

// A mirror of embedx/config.schema.json@v1.3.1: the keys of the sections kratos-hooks depends
// on. Each has additionalProperties false, so Kratos refuses to start on any other key.
const FLOW_KEYS: Record<SelfServiceFlow, readonly string[]> = {
  registration: ["enabled", "login_hints", "ui_url", "lifespan", "before", "after", "enable_legacy_one_step"],
  login: ["ui_url", "lifespan", "style", "before", "after"],
  settings: ["ui_url", "lifespan", "privileged_session_max_age", "required_aal", "after", "before"],
  verification: ["enabled", "ui_url", "after", "lifespan", "before", "use", "notify_unknown_recipients"],
  recovery: ["enabled", "ui_url", "after", "lifespan", "before", "use", "notify_unknown_recipients"],
};
/** The per-method lists of each flow's `after` section. */
const AFTER_METHODS: Record<SelfServiceFlow, readonly string[]> = {
  registration: ["password", "webauthn", "passkey", "oidc", "code"],
  login: ["password", "webauthn", "passkey", "oidc", "code", "totp", "lookup_secret"],
  settings: ["password", "totp", "oidc", "webauthn", "passkey", "lookup_secret", "profile"],
  verification: [],
  recovery: [],
};
const KEYS = {
  identity: ["default_schema_id", "schemas"],
  before: ["hooks"],
  method: ["default_browser_return_url", "hooks"],
  webHookEntry: ["hook", "config"],
  webHookConfig: ["url", "method", "headers", "body", "can_interrupt", "emit_analytics_event", "response", "auth"],
  response: ["ignore", "parse"],
  auth: ["type", "config"],
  api_key: ["name", "value", "in"],
  basic_auth: ["user", "password"],
} as const;
/**
 * Keys later releases add to these sections (embedx/config.schema.json@v25.4.0): v1.3.1 refuses
 * to start on them (measured: `additionalProperties "id" not allowed`), v26.2.0 starts.
 */
const LATER_KEYS: Partial<Record<keyof typeof KEYS, Record<string, string>>> = { webHookConfig: { id: "v25.4.0" } };

/** The methods that have their own hook list under `selfservice.flows.<flow>.after`. */
export function afterMethods(flow: SelfServiceFlow): readonly string[] {
  return AFTER_METHODS[flow];
}

function unknownKeys(
  node: unknown,
  allowed: readonly string[],
  at: readonly (string | number)[],
  out: YamlFinding[],
  later: Readonly<Record<string, string>> = {},
): void {
  if (!isJsonObject(node)) return;
  for (const key of Object.keys(node)) {
    if (allowed.includes(key)) continue;
    const since = later[key];
    if (since !== undefined) {
      out.push(
        finding({
          code: "unknown-key",
          effect: "refuses_to_start",
          at: [...at, key],
          message: `unknown key "${key}": Kratos before ${since} refuses to start (additionalProperties false); ${since} and later accept it`,
          fix: `remove "${key}", or run Kratos ${since} or later`,
          acceptedFrom: since,
        }),
      );
      continue;
    }
    const guess = allowed.find((k) => editDistance(k, key) <= 2);
    out.push(
      finding({
        code: "unknown-key",
        effect: "refuses_to_start",
        at: [...at, key],
        message: `unknown key "${key}": Kratos refuses to start (additionalProperties false)`,
        fix: guess === undefined ? `replace "${key}" with one of: ${allowed.join(", ")}` : `did you mean "${guess}"?`,
      }),
    );
  }
}

/** Unknown keys in identity, the flows, their hook lists and each web_hook's config. */
export function findUnknownKeys(data: Record<string, unknown>): YamlFinding[] {
  const out: YamlFinding[] = [];
  unknownKeys(data.identity, KEYS.identity, ["identity"], out);
  const flows = isJsonObject(data.selfservice) && isJsonObject(data.selfservice.flows) ? data.selfservice.flows : {};
  for (const flow of SELF_SERVICE_FLOWS) {
    const section = flows[flow];
    const at = ["selfservice", "flows", flow];
    unknownKeys(section, FLOW_KEYS[flow], at, out);
    if (!isJsonObject(section)) continue;
    unknownKeys(section.before, KEYS.before, [...at, "before"], out);
    unknownKeys(section.after, ["default_browser_return_url", ...AFTER_METHODS[flow], "hooks"], [...at, "after"], out);
    if (isJsonObject(section.after)) {
      for (const [method, list] of Object.entries(section.after)) {
        if (method !== "hooks" && method !== "default_browser_return_url") unknownKeys(list, KEYS.method, [...at, "after", method], out);
      }
    }
  }
  for (const entry of listHooks(data)) {
    if (entry.name !== "web_hook") continue;
    unknownKeys(entry.list[entry.path.at(-1) as number], KEYS.webHookEntry, entry.path, out);
    const config = entry.config;
    if (config === undefined) continue;
    const at = [...entry.path, "config"];
    unknownKeys(config, KEYS.webHookConfig, at, out, LATER_KEYS.webHookConfig);
    unknownKeys(config.response, KEYS.response, [...at, "response"], out);
    unknownKeys(config.auth, KEYS.auth, [...at, "auth"], out);
    const auth = isJsonObject(config.auth) ? config.auth : {};
    if (auth.type === "api_key" || auth.type === "basic_auth") unknownKeys(auth.config, KEYS[auth.type], [...at, "auth", "config"], out);
  }
  return out;
}
