import { DEV_API_KEY } from "../config/env.js";
import { factsOf, HOOK_IDS, type HookId, hookAt } from "../core/hooks.js";
import { isJsonObject } from "../core/json.js";
import { presentedKey } from "../http/auth.js";
import { sentKey } from "./doctor-auth.js";
import { finding, type YamlFinding } from "./doctor-finding.js";
import { afterMethods } from "./doctor-keys.js";
import { orderFindings } from "./doctor-order.js";
import { fetchKratosURL, type HookEntry, isParse, listHooks, routeOf } from "./kratos-config.js";
import { kratosAuthorization } from "./kratos-headers.js";

/** One web_hook entry of kratos.yml with its config, as the checks below see it. */
interface WebHook {
  entry: HookEntry;
  config: Record<string, unknown>;
  /** Key path of `config`. */
  at: readonly (string | number)[];
  response: Record<string, unknown>;
}

/** A web_hook whose URL names a route kratos-hooks serves. */
interface RoutedHook extends WebHook {
  route: HookId;
}

type Check<Hook> = (hook: Hook, cwd: string) => YamlFinding | undefined;

const AUTH_FIX = "auth:\n  type: api_key\n  config: {name: Authorization, value: Bearer <one of HOOKS_API_KEYS>, in: header}";

const missingKey =
  (key: "url" | "method"): Check<WebHook> =>
  ({ config, at }) =>
    typeof config[key] === "string" && config[key] !== ""
      ? undefined
      : finding({
          code: `webhook-missing-${key}`,
          effect: "refuses_to_start",
          at,
          message: `the web_hook has no ${key}: Kratos refuses to start (config.${key} is required)`,
          fix: key === "url" ? "url: https://<kratos-hooks host>/hooks/<hook id>" : "method: POST",
        });

const ignoreAndParse: Check<WebHook> = ({ config, at, response }) =>
  response.ignore === true && (response.parse === true || config.can_interrupt === true)
    ? finding({
        code: "webhook-ignore-and-parse",
        effect: "refuses_to_start",
        at: [...at, "response"],
        message:
          "response.ignore and response.parse (or can_interrupt) are both set: Kratos refuses to start (its config schema forbids the pair)",
        fix: "keep response.parse: true and remove response.ignore",
      })
    : undefined;

/** Kratos skips parse hooks in the global `after.hooks` of a flow whose answer it reads before saving. */
const globalAfterParse: Check<WebHook> = ({ entry, config }) => {
  const served = hookAt(entry.flow, entry.when);
  const parses = isParse(config) || config.can_interrupt === true;
  if (!parses || entry.method !== null || served === null || factsOf(served).list !== "per-method") return undefined;
  return finding({
    code: "global-after-parse",
    effect: "fails_at_runtime",
    at: entry.path,
    message: `a parse/can_interrupt web_hook in the global ${entry.flow}.after.hooks never runs: Kratos reads pre-persist hooks only from the per-method lists and skips parse hooks after persisting`,
    fix: `move it to selfservice.flows.${entry.flow}.after.<method>.hooks (${afterMethods(entry.flow).join(", ")})`,
  });
};

const unknownRoute: Check<WebHook> = ({ config, at }) => {
  // A URL that does not name a /hooks/<id> route is another service's web_hook, not ours: the
  // table (doctor --hooks) shows it as "not kratos-hooks", and nothing here judges it.
  const route = routeOf(config.url);
  if (route === null || "id" in route) return undefined;
  return finding({
    code: "unknown-route",
    effect: "fails_at_runtime",
    at: [...at, "url"],
    message: `${config.url} is not a route kratos-hooks serves: every call gets 404, which Kratos turns into a failed flow`,
    fix: `end the url with /hooks/<id>, id one of: ${HOOK_IDS.join(", ")}`,
  });
};

const misplacedRoute: Check<RoutedHook> = ({ entry, at, route }) => {
  const expected = hookAt(entry.flow, entry.when);
  if (expected === route) return undefined;
  return finding({
    code: "route-misplaced",
    effect: "fails_at_runtime",
    at: [...at, "url"],
    message: `/hooks/${route} is wired at ${entry.flow}.${entry.when}: ${expected === null ? "kratos-hooks serves no hook there" : `this place calls for /hooks/${expected}`}, and the payload will not match what the route expects`,
    fix: expected === null ? "remove this hook" : `set the url to …/hooks/${expected}`,
  });
};

const parseMissing: Check<RoutedHook> = ({ config, at, response, route }) => {
  if (isParse(config) || response.ignore === true) return undefined;
  const persists = factsOf(route).persistsPatch;
  return finding({
    code: "parse-missing",
    effect: persists ? "fails_at_runtime" : "warning",
    at,
    message: persists
      ? `without response.parse: true, /hooks/${route} runs after Kratos saved the identity: phones are not normalized, schemas not routed, and a refusal breaks the flow with a 502 after the identity exists`
      : `without response.parse: true, a refusal from /hooks/${route} reaches the user as a generic 502 instead of the message`,
    fix: "response:\n  parse: true",
  });
};

const ignored: Check<RoutedHook> = ({ at, response }) =>
  response.ignore === true && response.parse !== true
    ? finding({
        code: "webhook-ignore",
        effect: "fails_at_runtime",
        at: [...at, "response"],
        message: "response.ignore: Kratos calls in the background and discards the answer, so nothing kratos-hooks decides takes effect",
        fix: "replace response.ignore: true with response.parse: true",
      })
    : undefined;

/** Why kratos-hooks (src/http/auth.ts: Bearer <key>, or Basic with the key as password) would answer 401. */
function authMismatch(auth: Record<string, unknown>): string | undefined {
  const settings = isJsonObject(auth.config) ? auth.config : {};
  // The key the server reads from the Authorization header Kratos builds (src/http/auth.ts `presentedKey`).
  const key = presentedKey(kratosAuthorization(auth));
  const readsKey = key !== undefined && key !== "";
  if (auth.type === "basic_auth") {
    return readsKey ? undefined : "basic_auth without a password: kratos-hooks reads the key from the password";
  }
  if (auth.type !== "api_key") return `auth type ${JSON.stringify(auth.type)} is not one Kratos knows (api_key, basic_auth)`;
  if (settings.in === "cookie")
    return "the key is sent as a cookie; kratos-hooks reads only the Authorization header, so every call gets 401";
  if (typeof settings.name !== "string" || settings.name.toLowerCase() !== "authorization") {
    return `the key is sent in the header ${JSON.stringify(settings.name)}; kratos-hooks reads only Authorization, so every call gets 401`;
  }
  return readsKey
    ? undefined
    : 'the Authorization value is not "Bearer <key>" (nor "Basic <base64 of user:key>"), so every call gets 401 (the value is not shown)';
}

const auth: Check<RoutedHook> = ({ config, at }) => {
  const where = [...at, "auth"];
  if (!isJsonObject(config.auth)) {
    return finding({
      code: "auth-missing",
      effect: "fails_at_runtime",
      at: where,
      message: "no auth: kratos-hooks answers 401 to every call, and Kratos fails the flow",
      fix: AUTH_FIX,
    });
  }
  const mismatch = authMismatch(config.auth);
  if (mismatch !== undefined) {
    const fix = config.auth.type === "basic_auth" ? "set auth.config.password to one of HOOKS_API_KEYS" : AUTH_FIX;
    return finding({ code: "auth-mismatch", effect: "fails_at_runtime", at: where, message: mismatch, fix });
  }
  const sent = sentKey(config);
  if (sent?.key === DEV_API_KEY) {
    return finding({
      code: "auth-dev-key",
      effect: "warning",
      at: [...where, "config", ...sent.at],
      message: "the development key: the service refuses it when NODE_ENV=production (and on Workers outside dev)",
      fix: `generate a key (openssl rand -base64 32), set it in HOOKS_API_KEYS and in auth.config.${sent.at.join(".")}`,
    });
  }
  return undefined;
};

const contentType: Check<RoutedHook> = ({ config, at }) => {
  const value = isJsonObject(config.headers)
    ? Object.entries(config.headers).find(([k]) => k.toLowerCase() === "content-type")?.[1]
    : undefined;
  if (value === undefined || value === "application/json") return undefined;
  return finding({
    code: "content-type",
    effect: "fails_at_runtime",
    at: [...at, "headers"],
    message: `Content-Type ${JSON.stringify(value)}: Kratos only builds JSON bodies for exactly application/json (anything else fails or sends a form)`,
    fix: "remove the Content-Type header from headers (Kratos sets application/json)",
  });
};

const body: Check<RoutedHook> = ({ config, at, route }, cwd) => {
  if (typeof config.body !== "string" || config.body === "") {
    return finding({
      code: "body-missing",
      effect: "fails_at_runtime",
      at,
      message: 'no body template: Kratos fails every call ("got empty template path for request with body")',
      fix: `body: file://./hooks/${route}.jsonnet`,
    });
  }
  const fetched = fetchKratosURL(config.body, cwd);
  if (fetched.ok || /^https?:\/\//.test(config.body)) return undefined;
  return finding({
    code: "body-unreadable",
    effect: "fails_at_runtime",
    at: [...at, "body"],
    message: `${fetched.why}; relative file:// URLs resolve from Kratos's working directory, assumed to be ${cwd}`,
    fix: "start Kratos from the directory the body URL is relative to, or pass that directory with --cwd, or fix the path",
  });
};

/** Checks of every web_hook with a config. */
const WEB_HOOK_CHECKS: Check<WebHook>[] = [missingKey("url"), missingKey("method"), ignoreAndParse, globalAfterParse, unknownRoute];
/** Checks of a web_hook that calls one of our routes. */
const ROUTED_CHECKS: Check<RoutedHook>[] = [misplacedRoute, parseMissing, ignored, auth, contentType, body];

function webHookFindings(entry: HookEntry, cwd: string): YamlFinding[] {
  if (entry.config === undefined) {
    return [
      finding({
        code: "webhook-missing-config",
        effect: "refuses_to_start",
        at: entry.path,
        message: "a web_hook without config: Kratos refuses to start",
        fix: "add config with url, method and body",
      }),
    ];
  }
  const config = entry.config;
  const hook: WebHook = {
    entry,
    config,
    at: [...entry.path, "config"],
    response: isJsonObject(config.response) ? config.response : {},
  };
  const out = WEB_HOOK_CHECKS.map((check) => check(hook, cwd));
  const route = routeOf(config.url);
  if (route !== null && "id" in route) out.push(...ROUTED_CHECKS.map((check) => check({ ...hook, route: route.id }, cwd)));
  return out.filter((f) => f !== undefined);
}

/** The development key is one decision, not one per hook: it is reported once. */
function onceForDevKey(findings: YamlFinding[]): YamlFinding[] {
  const devKey = findings.filter((f) => f.code === "auth-dev-key");
  const [first] = devKey;
  if (first === undefined || devKey.length === 1) return findings;
  const once = { ...first, message: `${first.message} (${devKey.length} web_hooks use it)` };
  return findings.flatMap((f) => (f === first ? [once] : f.code === "auth-dev-key" ? [] : [f]));
}

/**
 * Hooks besides web_hook whose entry Kratos's config schema requires a `config` for (`b2bSSOHook`,
 * and `organization` from v25.4): without one Kratos refuses to start, on v1.3.1 and v26.2.0
 * alike (measured; with `config: {}` it starts and drops the hook, which open-source Kratos does
 * not run).
 */
const NEEDS_CONFIG = new Set(["b2b_sso", "organization"]);

function missingHookConfig(entry: HookEntry): YamlFinding | undefined {
  if (typeof entry.name !== "string" || !NEEDS_CONFIG.has(entry.name) || entry.config !== undefined) return undefined;
  return finding({
    code: "hook-missing-config",
    effect: "refuses_to_start",
    at: entry.path,
    message: `a ${entry.name} hook without config: Kratos's config schema requires one, so Kratos refuses to start (and open-source Kratos does not run ${entry.name} at all)`,
    fix: `remove this - hook: ${entry.name}, or give it a config`,
  });
}

/** The web_hook traps of contract §1.1, §2.1, §4.2, the routes and auth kratos-hooks serves, and the order of the lists. */
export function webhookFindings(data: Record<string, unknown>, cwd: string): YamlFinding[] {
  const entries = listHooks(data);
  const findings = entries.filter((e) => e.name === "web_hook").flatMap((e) => webHookFindings(e, cwd));
  const configless = entries.map(missingHookConfig).filter((f) => f !== undefined);
  return onceForDevKey([...findings, ...configless, ...orderFindings(entries)]);
}
