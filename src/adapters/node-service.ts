import { DEV_API_KEY } from "../config/env.js";
import { type GatewaySettings, type NodeSettings, readNodeSettings } from "../config/node-settings.js";
import type { Config } from "../config/schema.js";
import { STATUS } from "../core/http-status.js";
import type { Logger } from "../core/logger.js";
import type { Metrics } from "../core/metrics.js";
import type { Policy } from "../core/policy.js";
import { createGateway, type GatewayRule } from "../gateway/app.js";
import { kratosErrorBody } from "../gateway/kratos-error.js";
import { createApp } from "../http/app.js";
import { errorBody } from "../http/errors.js";
import { createNodeGatewayRuntime, getNodeConnInfo } from "./node-gateway.js";
import { createPinoLogger } from "./node-logger.js";
import { createMetricsApp, createPrometheusMetrics } from "./node-metrics.js";
import { type DrainState, type ErrorAnswer, type Listener, type ListenOptions, listen } from "./node-server.js";
import { createNodeShield, openShieldStore } from "./node-shield.js";
import { drainAndClose, stopOnSignals } from "./node-shutdown.js";
import type { RedisShieldStore } from "./redis-shield-store.js";
import { createShieldAdmin, type Fetch, routeShieldAdmin } from "./shield-admin.js";

/** The hooks listener's own errors: the hooks' error shape (docs/http-api.md). */
const HOOKS_ERROR_CODES = {
  [STATUS.badRequest]: "bad_request",
  [STATUS.requestTimeout]: "request_timeout",
  [STATUS.payloadTooLarge]: "payload_too_large",
  [STATUS.headerFieldsTooLarge]: "headers_too_large",
  [STATUS.internalError]: "internal_error",
  [STATUS.unavailable]: "unavailable",
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

/** What the service holds as it starts: filled in listener by listener, so a start that fails closes what is up. */
interface ServiceState {
  readonly listeners: Listener[];
  readonly drain: DrainState;
  /** The shield's admin routes, once the gateway's shield exists; until then the hooks answer 404 there. */
  shieldAdmin: Fetch | undefined;
  redisStore: RedisShieldStore | undefined;
  closeUpstream: (() => void) | undefined;
}

/** What starting the listeners reads. */
interface StartContext {
  readonly settings: NodeSettings;
  readonly logger: Logger;
  readonly options: ServeOptions;
  readonly state: ServiceState;
  readonly policies: readonly Policy[] | undefined;
}

/** What the listeners share: the metrics, when on, and each listener's connection bounds. */
interface Instruments {
  readonly metrics: Metrics | undefined;
  readonly bounds: (listener: string) => Pick<ListenOptions, "connections" | "connectionEvents">;
}

/** The drain and close, then the upstream connections and the shield's Redis connection. */
async function closeService(state: ServiceState, settings: NodeSettings, logger: Logger, drainMs: number): Promise<boolean> {
  const clean = await drainAndClose(state.listeners, state.drain, logger, { drainMs, timeoutMs: settings.shutdown.timeoutMs }, "close");
  state.closeUpstream?.();
  await state.redisStore?.close();
  return clean;
}

/** Only a listener's own failure is a ListenError; anything else is rethrown as it is. */
function listenErrorOf(error: unknown, host: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined || (error as NodeJS.ErrnoException).syscall !== "listen") return error;
  return new ListenError(code, `cannot listen on ${host} (${code}): ${(error as Error).message}`, { cause: error });
}

/** The hooks listener, then the gateway's and the metrics listener when configured, in that order. */
async function startListeners(context: StartContext): Promise<void> {
  const { settings, logger, state, policies } = context;
  const { config, connections } = settings;
  const prometheus = settings.metrics === undefined ? undefined : createPrometheusMetrics();
  const metrics = prometheus?.metrics;
  const bounds = (listener: string) => ({ connections, ...(prometheus && { connectionEvents: prometheus.connections(listener) }) });
  const app = createApp({ config, apiKeys: settings.apiKeys, logger, ...(metrics && { metrics }), ...(policies && { policies }) });
  // shield admin: `/admin/shield/*` on the hooks listener (authenticated), never the gateway's;
  // the admin app is set once the gateway's shield exists, else the hooks answer 404.
  const hooksFetch = routeShieldAdmin(app.fetch, () => state.shieldAdmin);
  state.listeners.push(
    await listen("hooks", hooksFetch, {
      port: settings.port,
      host: settings.host,
      readinessPath: "/health",
      drain: state.drain,
      logger,
      errorAnswer: HOOKS_ERROR,
      ...bounds("hooks"),
    }),
  );
  const { gateway } = settings;
  if (gateway !== undefined) await startGateway({ ...context, settings: { ...settings, gateway } }, { metrics, bounds });
  if (prometheus !== undefined && settings.metrics !== undefined) {
    const { port, host: metricsHost } = settings.metrics;
    // Scraped through the drain too; it has no readiness path of its own.
    state.listeners.push(
      await listen("metrics", createMetricsApp(prometheus.registry).fetch, {
        port,
        host: metricsHost,
        drain: state.drain,
        logger,
        ...bounds("metrics"),
      }),
    );
  }
}

/**
 * The gateway's listener: its shield (and the shield's admin routes on the hooks listener), the
 * Node runtime that forwards to Kratos, and the gateway app.
 */
async function startGateway(context: StartContext & { settings: { gateway: GatewaySettings } }, instruments: Instruments): Promise<void> {
  const { settings, logger, options, state } = context;
  const { config, connections } = settings;
  const { metrics } = instruments;
  if (config.gateway.regionFromClientCountry) {
    logger.warn({}, "gateway.regionFromClientCountry has no source on Node (only Cloudflare Workers knows the client's country); ignored");
  }
  const opened = await openShieldStore(settings.gateway, config, logger);
  state.redisStore = opened?.redis;
  const shield = opened === undefined ? false : createNodeShield(opened.store, settings.gateway, config);
  // shield admin: the routes of `kratos-hooks shield status|unlock` (src/adapters/shield-admin.ts).
  if (shield !== false) state.shieldAdmin = createShieldAdmin({ shield, apiKeys: settings.apiKeys, config, logger }).fetch;
  const runtime = createNodeGatewayRuntime(settings.gateway.upstream);
  state.closeUpstream = () => runtime.close();
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
  state.listeners.push(
    await listen("gateway", gateway.fetch, {
      port: settings.gateway.port,
      host: settings.host,
      readinessPath: "/health/ready",
      drain: state.drain,
      logger,
      errorAnswer: KRATOS_ERROR,
      ...instruments.bounds("gateway"),
    }),
  );
  logger.info({ upstream: settings.gateway.upstream.origin }, "gateway forwarding to Kratos's public API");
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
  if (settings.usingDevKey) {
    logger.warn(
      {},
      `HOOKS_API_KEYS is not set: accepting only the development key ${DEV_API_KEY}. Set HOOKS_API_KEYS before exposing this service.`,
    );
  }
  const policies = options.policies?.(settings.config);
  const state: ServiceState = {
    listeners: [],
    drain: { draining: false },
    shieldAdmin: undefined,
    redisStore: undefined,
    closeUpstream: undefined,
  };
  let closing: Promise<boolean> | undefined;
  let removeSignals = () => {};
  const close = (drainMs = 0): Promise<boolean> => {
    closing ??= (async () => {
      removeSignals();
      return closeService(state, settings, logger, drainMs);
    })();
    return closing;
  };
  // Before the first listener: a SIGTERM while starting drains what is up by then.
  if (options.handleSignals === true) removeSignals = stopOnSignals(() => close(settings.shutdown.drainMs));
  try {
    await startListeners({ settings, logger, options, state, policies });
  } catch (error) {
    await close();
    throw listenErrorOf(error, settings.host);
  }
  const portOf = (name: string) => state.listeners.find((l) => l.name === name)?.port;
  return {
    host: settings.host,
    hooksPort: portOf("hooks") ?? settings.port,
    gatewayPort: portOf("gateway"),
    metricsPort: portOf("metrics"),
    logger,
    close: (closeOptions) => close(closeOptions?.drainMs ?? 0),
  };
}
