import { editDistance } from "../config/parse.js";
import { isPlainObject } from "../core/json.js";
import { expectedRoute, FLOWS, fetchKratosURL, type HookEntry, listHooks, pathText, routeOf } from "./kratos-config.js";

/** A kratos.yml finding before it is given a file and line. */
export interface YamlFinding {
  code: string;
  severity: "error" | "warning";
  /** Key path from the document root, for the line number. */
  at: (string | number)[];
  path: string;
  message: string;
  fix: string;
}

// embedx/config.schema.json@v1.3.1: the keys of the sections kratos-hooks depends on. Each has
// additionalProperties false, so Kratos refuses to start on any other key.
const FLOW_KEYS: Record<string, readonly string[]> = {
  registration: ["enabled", "login_hints", "ui_url", "lifespan", "before", "after", "enable_legacy_one_step"],
  login: ["ui_url", "lifespan", "style", "before", "after"],
  settings: ["ui_url", "lifespan", "privileged_session_max_age", "required_aal", "after", "before"],
  verification: ["enabled", "ui_url", "after", "lifespan", "before", "use", "notify_unknown_recipients"],
  recovery: ["enabled", "ui_url", "after", "lifespan", "before", "use", "notify_unknown_recipients"],
};
const AFTER_KEYS: Record<string, readonly string[]> = {
  registration: ["default_browser_return_url", "password", "webauthn", "passkey", "oidc", "code", "hooks"],
  login: ["default_browser_return_url", "password", "webauthn", "passkey", "oidc", "code", "totp", "lookup_secret", "hooks"],
  settings: ["default_browser_return_url", "password", "totp", "oidc", "webauthn", "passkey", "lookup_secret", "profile", "hooks"],
  verification: ["default_browser_return_url", "hooks"],
  recovery: ["default_browser_return_url", "hooks"],
};
const KEYS = {
  identity: ["default_schema_id", "schemas"],
  before: ["hooks"],
  method: ["default_browser_return_url", "hooks"],
  webHookEntry: ["hook", "config"],
  webHookConfig: ["url", "method", "headers", "body", "can_interrupt", "emit_analytics_event", "response", "auth", "id"],
  response: ["ignore", "parse"],
  auth: ["type", "config"],
  api_key: ["name", "value", "in"],
  basic_auth: ["user", "password"],
} as const;

function unknownKeys(node: unknown, allowed: readonly string[], at: (string | number)[], out: YamlFinding[]): void {
  if (!isPlainObject(node)) return;
  for (const key of Object.keys(node)) {
    if (allowed.includes(key)) continue;
    const guess = allowed.find((k) => editDistance(k, key) <= 2);
    out.push({
      code: "unknown-key",
      severity: "error",
      at: [...at, key],
      path: pathText([...at, key]),
      message: `unknown key "${key}": Kratos refuses to start (additionalProperties false)`,
      fix: guess === undefined ? `use one of: ${allowed.join(", ")}` : `did you mean "${guess}"?`,
    });
  }
}

/** Unknown keys in identity, the flows, their hook lists and each web_hook's config. */
export function findUnknownKeys(data: Record<string, unknown>): YamlFinding[] {
  const out: YamlFinding[] = [];
  unknownKeys(data.identity, KEYS.identity, ["identity"], out);
  const flows = isPlainObject(data.selfservice) && isPlainObject(data.selfservice.flows) ? data.selfservice.flows : {};
  for (const flow of FLOWS) {
    const section = flows[flow];
    const at = ["selfservice", "flows", flow];
    unknownKeys(section, FLOW_KEYS[flow] ?? [], at, out);
    if (!isPlainObject(section)) continue;
    unknownKeys(section.before, KEYS.before, [...at, "before"], out);
    unknownKeys(section.after, AFTER_KEYS[flow] ?? [], [...at, "after"], out);
    if (isPlainObject(section.after)) {
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
    unknownKeys(config, KEYS.webHookConfig, at, out);
    unknownKeys(config.response, KEYS.response, [...at, "response"], out);
    unknownKeys(config.auth, KEYS.auth, [...at, "auth"], out);
    const auth = isPlainObject(config.auth) ? config.auth : {};
    if (auth.type === "api_key" || auth.type === "basic_auth") unknownKeys(auth.config, KEYS[auth.type], [...at, "auth", "config"], out);
  }
  return out;
}

function isParse(config: Record<string, unknown>): boolean {
  return isPlainObject(config.response) && config.response.parse === true;
}

/** The authentications kratos-hooks accepts (src/http/auth.ts): Bearer <key>, or Basic with the key as password. */
function authFinding(entry: HookEntry, config: Record<string, unknown>): YamlFinding | undefined {
  const at = [...entry.path, "config", "auth"];
  const base = { at, path: pathText(at) };
  const fix = "auth:\n  type: api_key\n  config: {name: Authorization, value: Bearer <one of HOOKS_API_KEYS>, in: header}";
  if (!isPlainObject(config.auth)) {
    return {
      ...base,
      code: "auth-missing",
      severity: "error",
      message: "no auth: kratos-hooks answers 401 to every call, and Kratos fails the flow",
      fix,
    };
  }
  const settings = isPlainObject(config.auth.config) ? config.auth.config : {};
  if (config.auth.type === "basic_auth") {
    if (typeof settings.password !== "string" || settings.password === "") {
      return {
        ...base,
        code: "auth-mismatch",
        severity: "error",
        message: "basic_auth without a password: kratos-hooks reads the key from the password",
        fix: "set password to one of HOOKS_API_KEYS",
      };
    }
    return undefined;
  }
  if (config.auth.type !== "api_key") {
    return {
      ...base,
      code: "auth-mismatch",
      severity: "error",
      message: `auth type ${JSON.stringify(config.auth.type)} is not one Kratos knows (api_key, basic_auth)`,
      fix,
    };
  }
  if (settings.in === "cookie") {
    return {
      ...base,
      code: "auth-mismatch",
      severity: "error",
      message: "the key is sent as a cookie; kratos-hooks reads only the Authorization header, so every call gets 401",
      fix,
    };
  }
  if (typeof settings.name !== "string" || settings.name.toLowerCase() !== "authorization") {
    return {
      ...base,
      code: "auth-mismatch",
      severity: "error",
      message: `the key is sent in the header ${JSON.stringify(settings.name)}; kratos-hooks reads only Authorization, so every call gets 401`,
      fix,
    };
  }
  const value = typeof settings.value === "string" ? settings.value : "";
  if (!/^Bearer \S+$/.test(value)) {
    return {
      ...base,
      code: "auth-mismatch",
      severity: "error",
      message: 'the Authorization value is not "Bearer <key>", so every call gets 401 (the value is not shown)',
      fix,
    };
  }
  if (value === "Bearer dev-only-insecure-key") {
    return {
      ...base,
      at: [...at, "config", "value"],
      code: "auth-dev-key",
      severity: "warning",
      message: "the development key: the service refuses it when NODE_ENV=production (and on Workers outside dev)",
      fix: "generate a key (openssl rand -base64 32), set it in HOOKS_API_KEYS and here",
    };
  }
  return undefined;
}

/** The web_hook traps of contract §1.1, §2.1, §4.2 and the routes and auth kratos-hooks serves. */
export function webhookFindings(data: Record<string, unknown>, cwd: string): YamlFinding[] {
  const out: YamlFinding[] = [];
  const entries = listHooks(data);
  for (const entry of entries) {
    const where = pathText(entry.path);
    if (entry.name !== "web_hook") continue;
    const config = entry.config;
    if (config === undefined) {
      out.push({
        code: "webhook-missing-config",
        severity: "error",
        at: entry.path,
        path: where,
        message: "a web_hook without config: Kratos refuses to start",
        fix: "add config with url, method and body",
      });
      continue;
    }
    const at = [...entry.path, "config"];
    for (const key of ["url", "method"] as const) {
      if (typeof config[key] !== "string" || config[key] === "") {
        out.push({
          code: `webhook-missing-${key}`,
          severity: "error",
          at,
          path: `${where}.config`,
          message: `the web_hook has no ${key}: Kratos refuses to start (config.${key} is required)`,
          fix: key === "url" ? "url: https://<kratos-hooks host>/hooks/<hook id>" : "method: POST",
        });
      }
    }
    const response = isPlainObject(config.response) ? config.response : {};
    if (response.ignore === true && (response.parse === true || config.can_interrupt === true)) {
      out.push({
        code: "webhook-ignore-and-parse",
        severity: "error",
        at: [...at, "response"],
        path: `${where}.config.response`,
        message:
          "response.ignore and response.parse (or can_interrupt) are both set: Kratos refuses to start (its config schema forbids the pair)",
        fix: "keep parse: true and remove ignore",
      });
    }
    const parses = isParse(config) || config.can_interrupt === true;
    if (parses && entry.when === "after" && entry.method === null && (entry.flow === "registration" || entry.flow === "settings")) {
      out.push({
        code: "global-after-parse",
        severity: "error",
        at: entry.path,
        path: where,
        message: `a parse/can_interrupt web_hook in the global ${entry.flow}.after.hooks never runs: Kratos reads pre-persist hooks only from the per-method lists and skips parse hooks after persisting`,
        fix: `move it to selfservice.flows.${entry.flow}.after.<method>.hooks (${entry.flow === "registration" ? "password, code, oidc, …" : "profile, password, …"})`,
      });
    }
    const route = routeOf(config.url);
    if (typeof config.url === "string" && (route === null || "unknown" in route)) {
      out.push({
        code: "unknown-route",
        severity: "error",
        at: [...at, "url"],
        path: `${where}.config.url`,
        message: `${config.url} is not a route kratos-hooks serves: every call gets 404, which Kratos turns into a failed flow`,
        fix: `end the URL with /hooks/<id>, id one of: registration-before, registration-after, login-before, login-after, settings-after`,
      });
      continue;
    }
    if (route === null || !("id" in route)) continue;
    const expected = expectedRoute(entry);
    if (expected !== route.id) {
      out.push({
        code: "route-misplaced",
        severity: "error",
        at: [...at, "url"],
        path: `${where}.config.url`,
        message: `/hooks/${route.id} is wired at ${entry.flow}.${entry.when}: ${expected === null ? "kratos-hooks serves no hook there" : `this place calls for /hooks/${expected}`}, and the payload will not match what the route expects`,
        fix: expected === null ? "remove this hook" : `use /hooks/${expected}`,
      });
    }
    if (!isParse(config) && response.ignore !== true) {
      const changes = route.id === "registration-after" || route.id === "settings-after";
      out.push({
        code: "parse-missing",
        severity: changes ? "error" : "warning",
        at,
        path: `${where}.config`,
        message: changes
          ? `without response.parse: true, /hooks/${route.id} runs after Kratos saved the identity: phones are not normalized, schemas not routed, and a refusal breaks the flow with a 502 after the identity exists`
          : `without response.parse: true, a refusal from /hooks/${route.id} reaches the user as a generic 502 instead of the message`,
        fix: "response:\n  parse: true",
      });
    }
    if (response.ignore === true && response.parse !== true) {
      out.push({
        code: "webhook-ignore",
        severity: "error",
        at: [...at, "response"],
        path: `${where}.config.response`,
        message: "response.ignore: Kratos calls in the background and discards the answer, so nothing kratos-hooks decides takes effect",
        fix: "replace ignore: true with parse: true",
      });
    }
    const auth = authFinding(entry, config);
    if (auth !== undefined) out.push(auth);
    const contentType = isPlainObject(config.headers)
      ? Object.entries(config.headers).find(([k]) => k.toLowerCase() === "content-type")?.[1]
      : undefined;
    if (contentType !== undefined && contentType !== "application/json") {
      out.push({
        code: "content-type",
        severity: "error",
        at: [...at, "headers"],
        path: `${where}.config.headers`,
        message: `Content-Type ${JSON.stringify(contentType)}: Kratos only builds JSON bodies for exactly application/json (anything else fails or sends a form)`,
        fix: "remove the Content-Type header (Kratos sets application/json)",
      });
    }
    if (typeof config.body !== "string" || config.body === "") {
      out.push({
        code: "body-missing",
        severity: "error",
        at,
        path: `${where}.config`,
        message: 'no body template: Kratos fails every call ("got empty template path for request with body")',
        fix: `body: file://./hooks/${route.id}.jsonnet`,
      });
    } else {
      const fetched = fetchKratosURL(config.body, cwd);
      if (!fetched.ok && !/^https?:\/\//.test(config.body)) {
        out.push({
          code: "body-unreadable",
          severity: "error",
          at: [...at, "body"],
          path: `${where}.config.body`,
          message: `${fetched.why}; relative file:// URLs resolve from Kratos's working directory, assumed to be ${cwd}`,
          fix: "start Kratos from the directory the URL is relative to, or pass that directory with --cwd, or fix the path",
        });
      }
    }
  }
  out.push(...orderFindings(data, entries));
  // The development key is one decision, not one per hook: report it once.
  const devKey = out.filter((f) => f.code === "auth-dev-key");
  const [first] = devKey;
  if (first !== undefined && devKey.length > 1) first.message += ` (${devKey.length} web_hooks use it)`;
  return out.filter((f) => f.code !== "auth-dev-key" || f === first);
}

function registrationMethods(data: Record<string, unknown>): string[] {
  const methods = isPlainObject(data.selfservice) && isPlainObject(data.selfservice.methods) ? data.selfservice.methods : {};
  const on = (name: string) => {
    const m = methods[name];
    return isPlainObject(m) && m.enabled === true;
  };
  const code = methods.code;
  const enabled: string[] = [];
  // password is enabled unless turned off; code registers only with passwordless_enabled.
  if (!(isPlainObject(methods.password) && methods.password.enabled === false)) enabled.push("password");
  if (on("code") && isPlainObject(code) && code.passwordless_enabled === true) enabled.push("code");
  for (const name of ["oidc", "webauthn", "passkey"]) if (on(name)) enabled.push(name);
  return enabled;
}

/** `session` not last, and our registration hook missing for an enabled method. */
function orderFindings(data: Record<string, unknown>, entries: HookEntry[]): YamlFinding[] {
  const out: YamlFinding[] = [];
  for (const entry of entries) {
    if (entry.name !== "session") continue;
    const index = entry.path.at(-1) as number;
    if (index === entry.list.length - 1) continue;
    // selfservice/hook/session_issuer.go: for API and SPA flows the session hook writes the
    // answer and aborts the list, so post-persist hooks after it never run for them. Parse
    // web_hooks run before persisting, wherever they are listed.
    const after = entry.list.slice(index + 1);
    const onlyParse = after.every((h) => isPlainObject(h) && h.hook === "web_hook" && isPlainObject(h.config) && isParse(h.config));
    out.push({
      code: "session-not-last",
      severity: onlyParse ? "warning" : "error",
      at: entry.path,
      path: pathText(entry.path),
      message: onlyParse
        ? "the session hook is not last; the parse web_hooks after it still run first (before the identity is saved), but the order misleads"
        : "the session hook is not last: Kratos answers API and SPA flows at the session hook, so the hooks after it never run for them (browser flows run them after the session cookie is issued)",
      fix: "move - hook: session to the end of this list",
    });
  }
  const wired = new Set(
    entries
      .filter((e) => {
        const route = e.flow === "registration" && e.when === "after" && e.name === "web_hook" ? routeOf(e.config?.url) : null;
        return e.method !== null && route !== null && "id" in route && route.id === "registration-after";
      })
      .map((e) => e.method as string),
  );
  if (wired.size > 0) {
    for (const method of registrationMethods(data)) {
      if (wired.has(method)) continue;
      const at = ["selfservice", "flows", "registration", "after"];
      out.push({
        code: "method-not-wired",
        severity: "error",
        at,
        path: `${pathText(at)}.${method}.hooks`,
        message: `/hooks/registration-after is wired for ${[...wired].join(", ")} but not for ${method}, which is enabled: sign-ups by ${method} skip phone normalization, routing and the deny rules`,
        fix: `add the same web_hook (and then - hook: session) to selfservice.flows.registration.after.${method}.hooks`,
      });
    }
  }
  return out;
}
