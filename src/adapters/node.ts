import { type NodeSettings, readNodeSettings } from "../config/node-settings.js";
import { ConfigError } from "../config/parse.js";
import { createGateway } from "../gateway/app.js";
import { createApp } from "../http/app.js";
import { createNodeGatewayRuntime } from "./node-gateway.js";
import { createPinoLogger } from "./node-logger.js";
import { createMetricsApp, createPrometheusMetrics } from "./node-metrics.js";
import { type DrainState, type Listener, listen, stopOnSignals } from "./node-server.js";

/** Exit code for a configuration error (sysexits EX_CONFIG), so supervisors can tell it from a crash. */
const EX_CONFIG = 78;

let settings: NodeSettings;
try {
  settings = readNodeSettings(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`kratos-hooks: ${error.message}\n`);
  process.exit(EX_CONFIG);
}

const logger = createPinoLogger(settings.logLevel);
if (settings.usingDevKey) {
  logger.warn(
    {},
    "HOOKS_API_KEYS is not set: accepting only the development key dev-only-insecure-key. Set HOOKS_API_KEYS before exposing this service.",
  );
}
const listeners: Listener[] = [];
const drain: DrainState = { draining: false };
const { host } = settings;
try {
  const prometheus = settings.metrics === undefined ? undefined : createPrometheusMetrics();
  const metrics = prometheus?.metrics;
  const app = createApp({ config: settings.config, apiKeys: settings.apiKeys, logger, ...(metrics && { metrics }) });
  listeners.push(await listen("hooks", app.fetch, { port: settings.port, host, readinessPath: "/health", drain, logger }));
  if (settings.gateway !== undefined) {
    if (settings.config.gateway.regionFromClientCountry) {
      logger.warn(
        {},
        "gateway.regionFromClientCountry has no source on Node (only Cloudflare Workers knows the client's country); ignored",
      );
    }
    const runtime = createNodeGatewayRuntime(settings.gateway.upstream);
    const gateway = createGateway({
      config: settings.config,
      upstream: settings.gateway.upstream,
      logger,
      runtime,
      ...(metrics && { metrics }),
    });
    // On the gateway every path is Kratos's: its own readiness path is the gateway's during a drain.
    listeners.push(
      await listen("gateway", gateway.fetch, { port: settings.gateway.port, host, readinessPath: "/health/ready", drain, logger }),
    );
    logger.info({ upstream: settings.gateway.upstream.origin }, "gateway forwarding to Kratos's public API");
  }
  if (prometheus !== undefined && settings.metrics !== undefined) {
    const { port, host: metricsHost } = settings.metrics;
    // Scraped through the drain too; it has no readiness path of its own.
    listeners.push(await listen("metrics", createMetricsApp(prometheus.registry).fetch, { port, host: metricsHost, drain, logger }));
  }
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined) throw error;
  process.stderr.write(`kratos-hooks: cannot listen on ${settings.host} (${code}): ${(error as Error).message}\n`);
  process.exit(1);
}
stopOnSignals(listeners, drain, logger, settings.shutdown);
