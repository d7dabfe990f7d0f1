// Node only (the server and the CLI read files and process.env here); the Worker never imports it.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseRuntimeSettings, type RuntimeSettings } from "./env.js";
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

export interface NodeSettings extends RuntimeSettings {
  config: Config;
  port: number;
  host: string;
}

/** Everything the Node server reads at start, with the messages it prints. Throws `ConfigError`. */
export function readNodeSettings(env: Env): NodeSettings {
  const settings = parseRuntimeSettings(env);
  const config = readNodeConfig(env);
  const port = Number(env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(`PORT: expected an integer from 0 to 65535, found ${JSON.stringify(env.PORT)}`);
  }
  return { ...settings, config, port, host: env.HOST || "0.0.0.0" };
}
