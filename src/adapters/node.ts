import { type NodeSettings, readNodeSettings } from "../config/node-settings.js";
import { ConfigError } from "../config/parse.js";
import { createGateway } from "../gateway/app.js";
import { createApp } from "../http/app.js";
import { createNodeGatewayRuntime } from "./node-gateway.js";
import { createPinoLogger } from "./node-logger.js";
import { type Listener, listen, stopOnSignals } from "./node-server.js";

/** Exit code for a configuration error (sysexits EX_CONFIG), so supervisors can tell it from a crash. */
const EX_CONFIG = 78;
const SHUTDOWN_GRACE_MS = 10_000;

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
try {
  const app = createApp({ config: settings.config, apiKeys: settings.apiKeys, logger });
  listeners.push(await listen("hooks", app.fetch, settings.port, settings.host, logger));
  if (settings.gateway !== undefined) {
    if (settings.config.gateway.regionFromClientCountry) {
      logger.warn(
        {},
        "gateway.regionFromClientCountry has no source on Node (only Cloudflare Workers knows the client's country); ignored",
      );
    }
    const runtime = createNodeGatewayRuntime(settings.gateway.upstream);
    const gateway = createGateway({ config: settings.config, upstream: settings.gateway.upstream, logger, runtime });
    listeners.push(await listen("gateway", gateway.fetch, settings.gateway.port, settings.host, logger));
    logger.info({ upstream: settings.gateway.upstream.origin }, "gateway forwarding to Kratos's public API");
  }
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined) throw error;
  process.stderr.write(`kratos-hooks: cannot listen on ${settings.host} (${code}): ${(error as Error).message}\n`);
  process.exit(1);
}
stopOnSignals(listeners, logger, SHUTDOWN_GRACE_MS);
