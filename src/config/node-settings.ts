// Node only (the server and the CLI read files and process.env here); the Worker never imports it.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseGatewayUpstream, parseRuntimeSettings, type RuntimeSettings } from "./env.js";
import { ConfigError, loadConfig } from "./parse.js";
import type { Config } from "./schema.js";

type Env = Readonly<Record<string, string | undefined>>;

/** Where the configuration came from, for messages: `HOOKS_CONFIG_FILE (x.json)`, `the defaults`. */
export function describeSources(env: Env): string {
  const names: string[] = [];
  if (env.HOOKS_CONFIG_FILE) names.push(`HOOKS_CONFIG_FILE (${env.HOOKS_CONFIG_FILE})`);
  if (env.HOOKS_CONFIG?.trim()) names.push("HOOKS_CONFIG");
  return names.length === 0 ? "the defaults" : names.join(" + ");
}

/** Our configuration from `HOOKS_CONFIG_FILE` and `HOOKS_CONFIG`, read on Node. Throws `ConfigError`. */
export function readNodeConfig(env: Env, cwd: string = process.cwd()): Config {
  const path = env.HOOKS_CONFIG_FILE;
  let file: { path: string; url: URL; text: string } | undefined;
  if (path !== undefined && path !== "") {
    try {
      file = { path, url: pathToFileURL(resolve(cwd, path)), text: readFileSync(resolve(cwd, path), "utf8") };
    } catch (error) {
      throw new ConfigError(
        `HOOKS_CONFIG_FILE: expected a readable JSON file, found ${(error as NodeJS.ErrnoException).code ?? "an error"} for ${path}`,
      );
    }
  }
  return loadConfig({
    file,
    inline: env.HOOKS_CONFIG,
    readFile: (url) => readFileSync(fileURLToPath(url), "utf8"),
    cwd: pathToFileURL(`${cwd}/`),
  });
}

/** The gateway's listener, when `GATEWAY_KRATOS_URL` is set. */
export interface GatewaySettings {
  /** Kratos's own public address, where the gateway forwards to. */
  upstream: URL;
  port: number;
  /**
   * `GATEWAY_SHIELD_SECRET`: the shield's HMAC key (pseudonyms, device markers). Unset: one of
   * this process's own, which only the memory store can live with (docs/shield.md#state).
   */
  shieldSecret: string | undefined;
  /** `GATEWAY_SHIELD_REDIS_URL`: the shield's counters in Redis (every instance shares them); unset: in memory. */
  shieldRedisUrl: string | undefined;
}

export interface NodeSettings extends RuntimeSettings {
  config: Config;
  port: number;
  host: string;
  gateway: GatewaySettings | undefined;
  shutdown: { drainMs: number; timeoutMs: number };
  /** The Prometheus listener, when `METRICS_PORT` is set. */
  metrics: { port: number; host: string } | undefined;
  /** The bounds on each listener's open connections. */
  connections: { max: number; perAddress: number };
}

/**
 * Open connections per listener (`MAX_CONNECTIONS`) and per client address on it
 * (`MAX_CONNECTIONS_PER_ADDRESS`; an IPv6 client counts by its /64). The defaults stay far below
 * a process's usual file limit (the gateway holds one upstream connection per request in flight
 * too), and leave one address room for a busy NAT or a Kratos instance under load: Kratos opens a
 * connection per hook call in flight.
 */
const DEFAULT_CONNECTIONS = { max: 4096, perAddress: 256 };

function readConnections(env: Env): NodeSettings["connections"] {
  const read = (name: string, fallback: number) => {
    const value = env[name];
    if (value === undefined || value.trim() === "") return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 1_000_000)
      throw new ConfigError(`${name}: expected an integer from 1 to 1000000, found ${JSON.stringify(value)}`);
    return n;
  };
  const max = read("MAX_CONNECTIONS", DEFAULT_CONNECTIONS.max);
  const perAddress = read("MAX_CONNECTIONS_PER_ADDRESS", Math.min(DEFAULT_CONNECTIONS.perAddress, max));
  if (perAddress > max) {
    throw new ConfigError(`MAX_CONNECTIONS_PER_ADDRESS: expected at most MAX_CONNECTIONS (${max}), found ${perAddress}`);
  }
  return { max, perAddress };
}

/**
 * `METRICS_PORT` (unset: no metrics) and `METRICS_HOST` (default loopback): a listener of its own,
 * never the hooks' port, which answers to anyone who can reach it without a key.
 */
function readMetricsSettings(env: Env, taken: readonly number[]): NodeSettings["metrics"] {
  if (env.METRICS_PORT === undefined || env.METRICS_PORT.trim() === "") return undefined;
  const port = parsePort("METRICS_PORT", env.METRICS_PORT, 0);
  if (port !== 0 && taken.includes(port)) {
    throw new ConfigError(`METRICS_PORT: expected a port of its own, found ${port}, which the hooks or the gateway listen on`);
  }
  return { port, host: env.METRICS_HOST?.trim() || "127.0.0.1" };
}

/**
 * The drain: long enough for a load balancer or Kubernetes to see readiness fail and stop sending
 * (a probe every 1–2 s, failing once, then the endpoints' update), short enough for a rolling
 * deploy. The timeout leaves 10 s after it for requests still in flight (Kratos allows a hook 30 s,
 * but ours answer in milliseconds).
 */
const DEFAULT_DRAIN_MS = 5_000;
const AFTER_DRAIN_MS = 10_000;

function parseMilliseconds(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === "") return fallback;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0 || ms > 3_600_000) {
    throw new ConfigError(`${name}: expected milliseconds, an integer from 0 to 3600000, found ${JSON.stringify(value)}`);
  }
  return ms;
}

/** `SHUTDOWN_DRAIN_MS` and `SHUTDOWN_TIMEOUT_MS`; the timeout must leave time after the drain. */
function readShutdown(env: Env): NodeSettings["shutdown"] {
  const drainMs = parseMilliseconds("SHUTDOWN_DRAIN_MS", env.SHUTDOWN_DRAIN_MS, DEFAULT_DRAIN_MS);
  const timeoutMs = parseMilliseconds("SHUTDOWN_TIMEOUT_MS", env.SHUTDOWN_TIMEOUT_MS, drainMs + AFTER_DRAIN_MS);
  if (timeoutMs <= drainMs) {
    throw new ConfigError(
      `SHUTDOWN_TIMEOUT_MS: expected more than SHUTDOWN_DRAIN_MS (${drainMs}), so that requests in flight can finish after the drain, found ${timeoutMs}`,
    );
  }
  return { drainMs, timeoutMs };
}

/** `PORT` unset: the hooks' listener. `kratos-hooks dev` starts the hooks here too. */
export const DEFAULT_HOOKS_PORT = 8787;

/** `GATEWAY_PORT` unset: the port Ory's proxy guides use for the address clients call; `dev`'s gateway too. */
export const DEFAULT_GATEWAY_PORT = 4455;

function parsePort(name: string, value: string | undefined, fallback: number): number {
  const port = Number(value ?? fallback);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(`${name}: expected an integer from 0 to 65535, found ${JSON.stringify(value)}`);
  }
  return port;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1|0\.0\.0\.0|\[::\])$/i;

/** True when `url` names the gateway's own listener (`host:port`): it would forward to itself. */
function isOwnAddress(url: URL, host: string, port: number): boolean {
  const urlPort = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  if (urlPort !== port) return false;
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const wildcard = host === "0.0.0.0" || host === "::";
  return hostname === host || (LOOPBACK.test(hostname) && (wildcard || LOOPBACK.test(host)));
}

/**
 * `GATEWAY_KRATOS_URL` and `GATEWAY_PORT`: the gateway's upstream and listener, or undefined when
 * the gateway is off. Refuses an upstream that is the gateway's own address (it would loop).
 */
function readGatewaySettings(env: Env, host: string, hooksPort: number): GatewaySettings | undefined {
  const upstream = parseGatewayUpstream(env.GATEWAY_KRATOS_URL);
  if (upstream === undefined) return undefined;
  const port = parsePort("GATEWAY_PORT", env.GATEWAY_PORT, DEFAULT_GATEWAY_PORT);
  if (port !== 0 && port === hooksPort) {
    throw new ConfigError(
      `GATEWAY_PORT: expected a port other than PORT (${hooksPort}): the hooks and the gateway each need a listener of their own`,
    );
  }
  if (isOwnAddress(upstream, host, port)) {
    throw new ConfigError(
      `GATEWAY_KRATOS_URL: expected Kratos's own public address, found the gateway's own (${upstream.host}, GATEWAY_PORT=${port}): the gateway would forward to itself. ` +
        "Set it to where Kratos's public API listens (serve.public.port, 4433 by default).",
    );
  }
  const shieldSecret = env.GATEWAY_SHIELD_SECRET?.trim() || undefined;
  if (shieldSecret !== undefined && shieldSecret.length < 16) {
    throw new ConfigError(
      "GATEWAY_SHIELD_SECRET: expected at least 16 characters (32 random bytes, base64, is right: openssl rand -base64 32)",
    );
  }
  const shieldRedisUrl = env.GATEWAY_SHIELD_REDIS_URL?.trim() || undefined;
  if (shieldRedisUrl !== undefined && shieldSecret === undefined) {
    throw new ConfigError(
      "GATEWAY_SHIELD_REDIS_URL is set but GATEWAY_SHIELD_SECRET is not: every instance sharing the Redis needs the same secret to name one identifier the same way",
    );
  }
  return { upstream, port, shieldSecret, shieldRedisUrl };
}

/** Everything the Node server reads at start, with the messages it prints. Throws `ConfigError`. */
export function readNodeSettings(env: Env): NodeSettings {
  const settings = parseRuntimeSettings(env);
  const config = readNodeConfig(env);
  const port = parsePort("PORT", env.PORT, DEFAULT_HOOKS_PORT);
  const host = env.HOST || "0.0.0.0";
  const gateway = readGatewaySettings(env, host, port);
  const metrics = readMetricsSettings(env, [port, ...(gateway === undefined ? [] : [gateway.port])]);
  return { ...settings, config, port, host, gateway, shutdown: readShutdown(env), metrics, connections: readConnections(env) };
}
