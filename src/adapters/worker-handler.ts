import * as z from "zod";
import { DEV_API_KEY, parseGatewayUpstream, parseRuntimeSettings } from "../config/env.js";
import { ConfigError, loadConfig } from "../config/parse.js";
import type { Config } from "../config/schema.js";
import type { Policy } from "../core/policy.js";
import { createGateway, type GatewayRule } from "../gateway/app.js";
import { createFetchRuntime, getWorkersConnInfo } from "../gateway/fetch-runtime.js";
import { randomSecret } from "../gateway/shield/keys.js";
import { MemoryStore } from "../gateway/shield/memory-store.js";
import { createShield, type Shield } from "../gateway/shield/shield.js";
import { createApp } from "../http/app.js";
import { errorResponse } from "../http/errors.js";
import { createConsoleLogger } from "./worker-logger.js";
import { DurableObjectShieldStore, type ShieldNamespace } from "./worker-shield-store.js";

/** The Worker's bindings that kratos-hooks reads (wrangler.toml `[vars]`, `wrangler secret put`, `.dev.vars`). */
export interface Env {
  /** Secret: comma-separated keys, as on Node. */
  HOOKS_API_KEYS?: string;
  /** The configuration: a JSON string, or a TOML table that wrangler passes as an object. */
  HOOKS_CONFIG?: string | Record<string, unknown>;
  LOG_LEVEL?: string;
  /** `true` only in `.dev.vars`: accept the development key under `wrangler dev`. */
  HOOKS_DEV_MODE?: string;
  /** Kratos's own public address: set, the Worker also serves the gateway in front of it. */
  GATEWAY_KRATOS_URL?: string;
  /** Comma-separated hostnames the gateway answers on (`*`: all); every other hostname gets the hooks. */
  GATEWAY_HOSTNAMES?: string;
  /** The shield's counters: a Durable Object namespace bound to `ShieldCounters` (wrangler.toml `[env.shield]`). */
  SHIELD?: ShieldNamespace;
  /** Secret: the shield's HMAC key (`wrangler secret put GATEWAY_SHIELD_SECRET`); required with `SHIELD`. */
  GATEWAY_SHIELD_SECRET?: string;
}

type Handler = (request: Request) => Response | Promise<Response>;

/** What `createWorker` takes; `E` is your Worker's bindings (a KV namespace, your own vars). */
export interface WorkerOptions<E extends Env = Env> {
  /**
   * The policies, from the configuration (`HOOKS_CONFIG`) and the bindings. Unset: the built-in
   * ones. Yours usually go after them: `(config, env) => [...builtInPolicies(config), mine(env.KV)]`.
   * Called once per isolate (again only if a text binding changes), not per request.
   */
  policies?: (config: Config, env: E) => readonly Policy[];
  /** Your gateway rules (Hono middleware), run before anything is forwarded to Kratos. */
  gatewayRules?: (env: E) => readonly GatewayRule[];
}

/** A Worker's module export: `export default createWorker()`; it is an `ExportedHandler<E>`. */
export interface WorkerHandler<E extends Env = Env> {
  fetch(request: Request, env: E): Response | Promise<Response>;
}

// Workers forbid run-time code generation; zod would otherwise probe for it (it also sniffs the
// Workers user agent, but the setting makes it explicit).
z.config({ jitless: true });

/**
 * `GATEWAY_HOSTNAMES`: which hostnames are the gateway's. A deployment keeps the hooks (called
 * by Kratos) and the gateway (called by browsers and apps) apart by hostname, the Cloudflare way:
 * a custom domain or route each, on one Worker or on two.
 */
function parseGatewayHostnames(value: string | undefined, upstream: URL): (hostname: string) => boolean {
  const names = (value ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== "");
  if (names.length === 0) {
    throw new ConfigError(
      "GATEWAY_HOSTNAMES: expected the hostnames the gateway answers on (comma-separated, or * for all) because GATEWAY_KRATOS_URL is set, found nothing",
    );
  }
  if (names.includes(upstream.hostname.toLowerCase()) || (names.includes("*") && names.length > 1)) {
    throw new ConfigError(
      `GATEWAY_HOSTNAMES: expected hostnames other than GATEWAY_KRATOS_URL's (${upstream.hostname}), and * alone or not at all, found ${JSON.stringify(value)}`,
    );
  }
  if (names.includes("*")) return () => true;
  const set = new Set(names);
  return (hostname) => set.has(hostname);
}

/**
 * Builds the same app as Node from the bindings. A bad configuration answers every request
 * with 503 (Kratos retries, then fails the flow: closed, not open) and logs the reason.
 */
function build<E extends Env>(env: E, inlineConfig: string | undefined, options: WorkerOptions<E>): Handler {
  try {
    const settings = parseRuntimeSettings(
      { HOOKS_API_KEYS: env.HOOKS_API_KEYS, LOG_LEVEL: env.LOG_LEVEL },
      {
        on: env.HOOKS_DEV_MODE !== "true",
        because: "a deployed Worker needs keys of its own (`wrangler secret put HOOKS_API_KEYS`; HOOKS_DEV_MODE=true only in .dev.vars)",
      },
    );
    const config = loadConfig({ inline: inlineConfig });
    const appLogger = createConsoleLogger(settings.logLevel);
    const policies = options.policies?.(config, env);
    const app = createApp({ config, apiKeys: settings.apiKeys, logger: appLogger, ...(policies && { policies }) });
    if (settings.usingDevKey) appLogger.warn({}, `HOOKS_DEV_MODE: accepting only the development key ${DEV_API_KEY}`);
    const upstream = parseGatewayUpstream(env.GATEWAY_KRATOS_URL);
    if (upstream === undefined) return (request) => app.fetch(request);
    const isGateway = parseGatewayHostnames(env.GATEWAY_HOSTNAMES, upstream);
    const rules = options.gatewayRules?.(env);
    const gateway = createGateway({
      config,
      upstream,
      logger: appLogger,
      runtime: createFetchRuntime(),
      connInfo: getWorkersConnInfo,
      shield: workerShield(env, config, appLogger),
      ...(rules && { rules }),
    });
    return (request) => (isGateway(new URL(request.url).hostname) ? gateway.fetch(request) : app.fetch(request));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // LOG_LEVEL may be what is wrong, so this line is always written.
    createConsoleLogger("info").error({ error: error.message }, "invalid configuration: answering 503 until it is fixed");
    return () => errorResponse("misconfigured", "the service is not configured; see its logs", null);
  }
}

/**
 * The shield on Workers: counters in the `SHIELD` Durable Objects (shared by every isolate and
 * location), or, without that binding, in the isolate's memory (each isolate counts on its own:
 * a floor, not a budget; docs/shield.md#workers).
 */
function workerShield(env: Env, config: Config, logger: ReturnType<typeof createConsoleLogger>): Shield | false {
  const shieldConfig = config.gateway.shield;
  if (!shieldConfig.enabled) return false;
  const secret = env.GATEWAY_SHIELD_SECRET?.trim() || undefined;
  if (env.SHIELD !== undefined && (secret === undefined || secret.length < 16)) {
    throw new ConfigError(
      "GATEWAY_SHIELD_SECRET: expected a secret of at least 16 characters with the SHIELD Durable Object (`wrangler secret put GATEWAY_SHIELD_SECRET --env shield`)",
    );
  }
  if (env.SHIELD === undefined) {
    logger.warn(
      { shield: "isolate_memory" },
      "shield: no SHIELD Durable Object binding; counting in this isolate's memory only (docs/shield.md#workers)",
    );
  }
  return createShield({
    config: shieldConfig,
    store: env.SHIELD === undefined ? new MemoryStore({ maxKeys: 100_000 }) : new DurableObjectShieldStore(env.SHIELD),
    secret: secret ?? randomSecret(),
    allowedCountries: config.normalizePhone.allowedCountries,
    deniedCountries: config.normalizePhone.deniedCountries,
  });
}

/** The bindings that are text (vars, secrets), by name: what a new deployment can change. */
function textBindings(env: object): [string, string][] {
  return Object.entries(env)
    .filter((entry): entry is [string, string] => typeof entry[1] === "string")
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

/**
 * The service as a Cloudflare Worker, from its bindings (`HOOKS_API_KEYS`, `HOOKS_CONFIG`,
 * `LOG_LEVEL`, `GATEWAY_KRATOS_URL`, `GATEWAY_HOSTNAMES`; docs/deploy-workers.md) plus your own
 * policies and gateway rules: `export default createWorker({ policies })`. The app is built once
 * per isolate, on the first request, and again only when a text binding (var or secret) changes. A bad
 * configuration answers every request 503 and logs why.
 *
 * ```ts
 * import { builtInPolicies } from "kratos-hooks";
 * import { createWorker } from "kratos-hooks/worker";
 * export default createWorker({ policies: (config) => [...builtInPolicies(config), inviteOnly], gatewayRules: () => [blockBots] });
 * ```
 */
export function createWorker<E extends Env = Env>(options: WorkerOptions<E> = {}): WorkerHandler<E> {
  let built: { key: string; handler: Handler } | undefined;
  return {
    fetch(request: Request, env: E): Response | Promise<Response> {
      const config = typeof env.HOOKS_CONFIG === "object" ? JSON.stringify(env.HOOKS_CONFIG) : env.HOOKS_CONFIG;
      // Every text binding, yours included (a policy may read one): a KV namespace or another
      // object binding is the same namespace for the isolate's life and is not part of the key.
      const key = JSON.stringify([config, ...textBindings(env)]);
      if (built?.key !== key) built = { key, handler: build(env, config, options) };
      return built.handler(request);
    },
  };
}
