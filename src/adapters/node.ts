import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import { parseRuntimeSettings } from "../config/env.js";
import { ConfigError, loadConfig } from "../config/parse.js";
import { createApp } from "../http/app.js";
import { createPinoLogger } from "./node-logger.js";

/** Exit code for a configuration error (sysexits EX_CONFIG), so supervisors can tell it from a crash. */
const EX_CONFIG = 78;
const SHUTDOWN_GRACE_MS = 10_000;

function readSettings() {
  const env = process.env;
  const settings = parseRuntimeSettings(env);
  const path = env.HOOKS_CONFIG_FILE;
  let file: { path: string; url: URL; text: string } | undefined;
  if (path !== undefined && path !== "") {
    try {
      file = { path, url: pathToFileURL(resolve(path)), text: readFileSync(path, "utf8") };
    } catch (error) {
      throw new ConfigError(
        `HOOKS_CONFIG_FILE: expected a readable JSON file, found ${(error as NodeJS.ErrnoException).code ?? "an error"} for ${path}`,
      );
    }
  }
  const port = Number(env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(`PORT: expected an integer from 0 to 65535, found ${JSON.stringify(env.PORT)}`);
  }
  return {
    ...settings,
    config: loadConfig({
      file,
      inline: env.HOOKS_CONFIG,
      readFile: (url) => readFileSync(fileURLToPath(url), "utf8"),
      cwd: pathToFileURL(`${process.cwd()}/`),
    }),
    port,
    host: env.HOST || "0.0.0.0",
  };
}

let settings: ReturnType<typeof readSettings>;
try {
  settings = readSettings();
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
