import { serve } from "@hono/node-server";
import { type NodeSettings, readNodeSettings } from "../config/node-settings.js";
import { ConfigError } from "../config/parse.js";
import { createApp } from "../http/app.js";
import { createPinoLogger } from "./node-logger.js";

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
const app = createApp({ config: settings.config, apiKeys: settings.apiKeys, logger });
const server = serve({ fetch: app.fetch, port: settings.port, hostname: settings.host }, (info) => {
  logger.info({ host: settings.host, port: info.port }, "listening");
});
// Kratos gives up on an attempt after 30 s; a client slower than that is not Kratos.
if ("requestTimeout" in server) {
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  // Kratos's Go client keeps idle connections 90 s (ory/x httpx/ssrf.go, newDefaultTransport).
  // Closing them first (Node's default is 5 s) races with the next hook call on that connection
  // and turns it into a Kratos retry.
  server.keepAliveTimeout = 95_000;
}

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down: finishing in-flight requests");
  server.close(() => {
    logger.info({}, "stopped");
    process.exit(0);
  });
  // close() only drops connections idle at the time of the call; a keep-alive connection whose
  // request finishes later would hold the process until its keep-alive timeout.
  if ("closeIdleConnections" in server) setInterval(() => server.closeIdleConnections(), 50).unref();
  setTimeout(() => {
    logger.warn({ graceMs: SHUTDOWN_GRACE_MS }, "in-flight requests did not finish in time; closing connections");
    if ("closeAllConnections" in server) server.closeAllConnections();
    process.exit(1);
  }, SHUTDOWN_GRACE_MS).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
