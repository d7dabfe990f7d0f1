import { describeSources, readNodeConfig } from "../config/node-settings.js";
import { ConfigError } from "../config/parse.js";
import type { Config } from "../config/schema.js";
import { UsageError } from "./usage.js";

/**
 * Our configuration for the CLI: the file given with --config, else what the server would read
 * (HOOKS_CONFIG_FILE, HOOKS_CONFIG), else the defaults. A bad config is a usage error.
 */
export function loadCliConfig(file: string | undefined): { config: Config; source: string } {
  const env = file === undefined ? process.env : { HOOKS_CONFIG_FILE: file };
  try {
    return { config: readNodeConfig(env), source: describeSources(env) };
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}
