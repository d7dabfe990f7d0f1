import { ConfigError } from "./parse.js";

/** The key a fresh checkout accepts, so the shipped kratos.yml works out of the box. Never in production. */
export const DEV_API_KEY = "dev-only-insecure-key";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
/** pino's level names (`LOG_LEVEL`): `info` by default; `silent` writes nothing. */
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface RuntimeSettings {
  apiKeys: readonly string[];
  /** True when HOOKS_API_KEYS was unset and the development key is in use. */
  usingDevKey: boolean;
  logLevel: LogLevel;
}

type Env = Readonly<Record<string, string | undefined>>;

/** What every web_hook in kratos.yml needs to send one of HOOKS_API_KEYS (Kratos's `request/auth.go`). */
export const KRATOS_AUTH_LINES = [
  "    auth:",
  "      type: api_key",
  "      config:",
  "        name: Authorization",
  "        value: Bearer <key>",
  "        in: header",
].join("\n");

/** Whether the runtime is in production (no development key) and the setting that says so. */
export interface ProductionMode {
  on: boolean;
  /** Named in errors, e.g. `NODE_ENV=production`. */
  because: string;
}

/**
 * Reads the settings every runtime shares from environment variables (Node) or bindings
 * (Workers). Key values never appear in an error message. Node is in production when
 * `NODE_ENV=production`; the Worker passes its own rule.
 */
export function parseRuntimeSettings(
  env: Env,
  production: ProductionMode = { on: env.NODE_ENV === "production", because: "NODE_ENV=production" },
): RuntimeSettings {
  const logLevel = (env.LOG_LEVEL ?? "info").trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(", ")}, found ${JSON.stringify(env.LOG_LEVEL)}`);
  }
  const raw = env.HOOKS_API_KEYS;
  if (raw === undefined || raw.trim() === "") {
    if (production.on) {
      throw new ConfigError(
        `HOOKS_API_KEYS: expected at least one API key (comma-separated) because ${production.because}, found nothing. ` +
          "Generate one with `openssl rand -base64 32`, set it here, and send it from every web_hook in kratos.yml:\n" +
          KRATOS_AUTH_LINES,
      );
    }
    return { apiKeys: [DEV_API_KEY], usingDevKey: true, logLevel: logLevel as LogLevel };
  }
  const keys = splitApiKeys(raw);
  const prefixed = keys.findIndex(hasBearerPrefix);
  if (prefixed >= 0) {
    throw new ConfigError(
      `HOOKS_API_KEYS: key #${prefixed + 1} starts with "Bearer ": drop the Bearer prefix here and set the key alone ` +
        "(kratos.yml sends it as `value: Bearer <key>`; its value is not shown)",
    );
  }
  if (production.on && keys.includes(DEV_API_KEY)) {
    throw new ConfigError(
      `HOOKS_API_KEYS: expected keys of your own because ${production.because}, found the development key ${DEV_API_KEY}`,
    );
  }
  keys.forEach((key, i) => {
    if (key.length < 16 || !/^[\x21-\x7e]+$/.test(key)) {
      throw new ConfigError(
        `HOOKS_API_KEYS: expected comma-separated keys of at least 16 printable ASCII characters without spaces, ` +
          `found key #${i + 1} of ${key.length} characters that does not fit (its value is not shown)`,
      );
    }
  });
  return { apiKeys: keys, usingDevKey: false, logLevel: logLevel as LogLevel };
}

/**
 * `GATEWAY_KRATOS_URL`: Kratos's own public address, where the gateway forwards (Node and
 * Workers). Undefined when unset: the gateway is off. Not named KRATOS_PUBLIC_URL on purpose:
 * Ory's UIs use that name for the address clients call, which behind the gateway is the gateway.
 */
export function parseGatewayUpstream(value: string | undefined): URL | undefined {
  const raw = value?.trim();
  if (raw === undefined || raw === "") return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    url.search !== "" ||
    url.hash !== "" ||
    url.username !== ""
  ) {
    throw new ConfigError(
      `GATEWAY_KRATOS_URL: expected Kratos's own public address as an http(s) URL without query or credentials, such as http://127.0.0.1:4433, found ${JSON.stringify(raw)}`,
    );
  }
  return url;
}

/** HOOKS_API_KEYS as a list: comma-separated, each key trimmed (an empty entry stays, for the length check). */
export function splitApiKeys(raw: string): string[] {
  return raw.split(",").map((k) => k.trim());
}

/**
 * A key written with the scheme kratos.yml sends before it (`Bearer abc…`): the key is what follows
 * the scheme, so such a value is refused, wherever a key is read.
 */
export function hasBearerPrefix(key: string): boolean {
  return /^bearer\s/i.test(key);
}
