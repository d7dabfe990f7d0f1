import { DEV_API_KEY } from "../config/env.js";
import { type NodeSettings, readNodeSettings } from "../config/node-settings.js";
import type { Config } from "../config/schema.js";
import type { Logger } from "../core/logger.js";
import type { Policy } from "../core/policy.js";
import { createGateway, type GatewayRule } from "../gateway/app.js";
import { kratosErrorBody } from "../gateway/kratos-error.js";
import { randomSecret } from "../gateway/shield/keys.js";
import { MemoryStore } from "../gateway/shield/memory-store.js";
import { createShield } from "../gateway/shield/shield.js";
import type { ShieldStore } from "../gateway/shield/store.js";
import { createApp } from "../http/app.js";
import { errorBody } from "../http/errors.js";
import { createNodeGatewayRuntime, getNodeConnInfo, nodeHmac } from "./node-gateway.js";
import { createPinoLogger } from "./node-logger.js";
import { createMetricsApp, createPrometheusMetrics } from "./node-metrics.js";
import { type DrainState, drainAndClose, type ErrorAnswer, type Listener, listen, stopOnSignals } from "./node-server.js";
import { createRedisShieldStore, type RedisShieldStore } from "./redis-shield-store.js";
import { createShieldAdmin, type Fetch, routeShieldAdmin } from "./shield-admin.js";

/** The hooks listener's own errors: the hooks' error shape (docs/http-api.md). */
const HOOKS_ERROR_CODES = {
  400: "bad_request",
  408: "request_timeout",
  413: "payload_too_large",
  431: "headers_too_large",
  500: "internal_error",
  503: "unavailable",
} as const;
const HOOKS_ERROR: ErrorAnswer = (status, message) => ({
  contentType: "application/json; charset=utf-8",
  body: errorBody(HOOKS_ERROR_CODES[status], message),
});

/** The gateway's: Kratos's, as every answer there (`{"error":{"code","status","reason","message"}}`). */
const KRATOS_ERROR: ErrorAnswer = (status, message, reason) => ({
  contentType: "application/json; charset=utf-8",
  body: kratosErrorBody(status, message, reason),
});

/** What `serve` takes: everything else comes from the environment, as for `npm start`. */
export interface ServeOptions {
  /**
   * The policies, from the configuration read from the environment. Unset: the built-in ones
   * (`builtInPolicies(config)`). Yours usually go after them:
   * `(config) => [...builtInPolicies(config), inviteOnly]`.
   */
  policies?: (config: Config) => readonly Policy[];
  /** Your gateway rules (Hono middleware), run before anything is forwarded to Kratos. */
  gatewayRules?: readonly GatewayRule[];
  /** The environment to read the settings from; `process.env` by default. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Drain and exit on SIGTERM and SIGINT (readiness 503 for `SHUTDOWN_DRAIN_MS`, in-flight
   * requests finished, then exit 0, or 1 at `SHUTDOWN_TIMEOUT_MS`), as `npm start` does. Off by
   * default: a library does not own the process; call `close()` instead.
   */
  handleSignals?: boolean;
}

/** The running service: each listener's port (useful with `PORT=0`), its logger, and `close()`. */
export interface RunningService {
  /** The address the listeners are bound to (`HOST`, `0.0.0.0` by default). */
  host: string;
  hooksPort: number;
  /** Set when `GATEWAY_KRATOS_URL` is. */
  gatewayPort: number | undefined;
  /** Set when `METRICS_PORT` is. */
  metricsPort: number | undefined;
  logger: Logger;
  /**
   * Stops the service: readiness answers 503 for `drainMs` (0 by default), then the listeners stop
   * accepting, requests in flight finish (cut at `SHUTDOWN_TIMEOUT_MS`), and the shield's Redis
   * connection is closed. Resolves true when everything closed in time. Calling it again returns
   * the same promise. Removes the signal handlers `handleSignals` installed.
   */
  close(options?: { drainMs?: number }): Promise<boolean>;
}

/**
 * A listener's port was taken or not allowed (`EADDRINUSE`, `EACCES`): `code` is Node's.
 *
 * ```ts
 * import { ListenError, serve } from "kratos-hooks/node";
 * try { await serve(); }
 * catch (error) { if (error instanceof ListenError && error.code === "EADDRINUSE") console.error(error.message); else throw error; }
 * ```
 */
export class ListenError extends Error {
  override name = "ListenError";
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Starts the service on Node: settings from the environment (`PORT`, `HOOKS_API_KEYS`,
 * `HOOKS_CONFIG_FILE`, `GATEWAY_KRATOS_URL`, … docs/configuration.md), pino JSON logs on stdout,
 * the gateway and the Prometheus listener when configured. It never exits the process: it
 * resolves once every listener is up, with a handle to `close()` it; it can be started and closed
 * as often as you like in one process. Signal handling (the drain on SIGTERM and SIGINT) only
 * with `handleSignals: true`, as the shipped `npm start` asks.
 *
 * ```ts
 * const service = await serve({ policies: (config) => [...builtInPolicies(config), inviteOnly], handleSignals: true });
 * console.log(`hooks on ${service.hooksPort}`);
 * ```
 *
 * @throws ConfigError for a bad setting or configuration (one line per problem), before anything listens.
 * @throws ListenError when a port is taken (`EADDRINUSE`); the listeners already up are closed first.
 */
export async function serve(options: ServeOptions = {}): Promise<RunningService> {
  const settings: NodeSettings = readNodeSettings(options.env ?? process.env);
  const logger = createPinoLogger(settings.logLevel);
  const { connections } = settings;
  if (settings.usingDevKey) {
    logger.warn(
      {},
      `HOOKS_API_KEYS is not set: accepting only the development key ${DEV_API_KEY}. Set HOOKS_API_KEYS before exposing this service.`,
    );
  }
  const listeners: Listener[] = [];
  const drain: DrainState = { draining: false };
  const { host, config } = settings;
  const policies = options.policies?.(config);
  let store: ShieldStore | undefined;
  let redisStore: RedisShieldStore | undefined;
  let closeUpstream: (() => void) | undefined;
  let closing: Promise<boolean> | undefined;
  let removeSignals = () => {};
  const close = (drainMs = 0): Promise<boolean> => {
    closing ??= (async () => {
      removeSignals();
      const clean = await drainAndClose(listeners, drain, logger, { drainMs, timeoutMs: settings.shutdown.timeoutMs }, "close");
      closeUpstream?.();
      await redisStore?.close();
      return clean;
    })();
    return closing;
  };
  // Before the first listener: a SIGTERM while starting drains what is up by then.
  if (options.handleSignals === true) removeSignals = stopOnSignals(() => close(settings.shutdown.drainMs));
  try {
    const prometheus = settings.metrics === undefined ? undefined : createPrometheusMetrics();
    const metrics = prometheus?.metrics;
    const bounds = (listener: string) => ({ connections, ...(prometheus && { connectionEvents: prometheus.connections(listener) }) });
    const app = createApp({ config, apiKeys: settings.apiKeys, logger, ...(metrics && { metrics }), ...(policies && { policies }) });
    // shield admin: `/admin/shield/*` on the hooks listener (authenticated), never the gateway's;
    // the admin app is set below once the gateway's shield exists, else the hooks answer 404.
    let shieldAdmin: Fetch | undefined;
    const hooksFetch = routeShieldAdmin(app.fetch, () => shieldAdmin);
    listeners.push(
      await listen("hooks", hooksFetch, {
        port: settings.port,
        host,
        readinessPath: "/health",
        drain,
        logger,
        errorAnswer: HOOKS_ERROR,
        ...bounds("hooks"),
      }),
    );
    if (settings.gateway !== undefined) {
      if (config.gateway.regionFromClientCountry) {
        logger.warn(
          {},
          "gateway.regionFromClientCountry has no source on Node (only Cloudflare Workers knows the client's country); ignored",
        );
      }
      const shieldConfig = config.gateway.shield;
      if (shieldConfig.enabled) {
        const { shieldRedisUrl } = settings.gateway;
        if (shieldRedisUrl === undefined) store = new MemoryStore();
        else {
          const redis = createRedisShieldStore(shieldRedisUrl, {
            onDown: (error) => logger.warn({ shield: "store_down", store: "redis", err: { type: error.name } }, "shield: Redis is down"),
            onUp: () => logger.info({ shield: "store_up", store: "redis" }, "shield: Redis is up"),
          });
          // The service starts without Redis too: attempts then follow shield.failMode until it answers.
          await redis
            .ready()
            .catch((error: Error) =>
              logger.warn({ shield: "store_down", store: "redis", err: { type: error.name } }, "shield: Redis is not reachable at start"),
            );
          store = redis;
          redisStore = redis;
        }
        if (settings.gateway.shieldSecret === undefined) {
          logger.warn(
            { shield: "secret_random" },
            "GATEWAY_SHIELD_SECRET is not set: the shield's pseudonyms use a secret of this process's own (fine for one instance on the memory store)",
          );
        }
        logger.info(
          {
            shield: "on",
            store: store.kind,
            failMode: shieldConfig.failMode,
            perClient: shieldConfig.perClient,
            trustForwardedHeaders: config.gateway.trustForwardedHeaders,
          },
          shieldConfig.perClient === "auto" && !config.gateway.trustForwardedHeaders
            ? "shield on: if the gateway's peers turn out to be private addresses (an ingress in front), it will not count per client; set gateway.trustForwardedHeaders behind a proxy"
            : "shield on",
        );
      }
      const shield =
        store === undefined
          ? false
          : createShield({
              config: shieldConfig,
              store,
              secret: settings.gateway.shieldSecret ?? randomSecret(),
              allowedCountries: config.normalizePhone.allowedCountries,
              deniedCountries: config.normalizePhone.deniedCountries,
              hmac: nodeHmac,
            });
      // shield admin: the routes of `kratos-hooks shield status|unlock` (src/adapters/shield-admin.ts).
      if (shield !== false) shieldAdmin = createShieldAdmin({ shield, apiKeys: settings.apiKeys, config, logger }).fetch;
      const runtime = createNodeGatewayRuntime(settings.gateway.upstream);
      closeUpstream = () => runtime.close();
      const gateway = createGateway({
        config,
        upstream: settings.gateway.upstream,
        logger,
        runtime,
        connInfo: getNodeConnInfo,
        shield,
        ...(metrics && { metrics }),
        ...(options.gatewayRules && { rules: options.gatewayRules }),
      });
      // On the gateway every path is Kratos's: its own readiness path is the gateway's during a drain.
      if (config.gateway.trustForwardedHeaders && connections.perAddress < connections.max) {
        logger.warn(
          { perAddress: connections.perAddress },
          "gateway.trustForwardedHeaders: every connection comes from your proxy's address, which MAX_CONNECTIONS_PER_ADDRESS caps; raise it to MAX_CONNECTIONS if the proxy opens more",
        );
      }
      listeners.push(
        await listen("gateway", gateway.fetch, {
          port: settings.gateway.port,
          host,
          readinessPath: "/health/ready",
          drain,
          logger,
          errorAnswer: KRATOS_ERROR,
          ...bounds("gateway"),
        }),
      );
      logger.info({ upstream: settings.gateway.upstream.origin }, "gateway forwarding to Kratos's public API");
    }
    if (prometheus !== undefined && settings.metrics !== undefined) {
      const { port, host: metricsHost } = settings.metrics;
      // Scraped through the drain too; it has no readiness path of its own.
      listeners.push(
        await listen("metrics", createMetricsApp(prometheus.registry).fetch, {
          port,
          host: metricsHost,
          drain,
          logger,
          ...bounds("metrics"),
        }),
      );
    }
  } catch (error) {
    await close();
    const code = (error as NodeJS.ErrnoException).code;
    // Only a listener's own failure is a ListenError; anything else is rethrown as it is.
    if (code === undefined || (error as NodeJS.ErrnoException).syscall !== "listen") throw error;
    throw new ListenError(code, `cannot listen on ${settings.host} (${code}): ${(error as Error).message}`, { cause: error });
  }
  const portOf = (name: string) => listeners.find((l) => l.name === name)?.port;
  return {
    host,
    hooksPort: portOf("hooks") ?? settings.port,
    gatewayPort: portOf("gateway"),
    metricsPort: portOf("metrics"),
    logger,
    close: (closeOptions) => close(closeOptions?.drainMs ?? 0),
  };
}
