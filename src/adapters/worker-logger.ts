import type { LogLevel } from "../config/env.js";
import type { Logger } from "../core/logger.js";
import { redactFields } from "../core/redact.js";

/** pino's numeric levels, so Node and Worker log lines read the same. */
const LEVELS: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
/**
 * The Workers logger: one JSON line per call through `console.log` (what `wrangler tail` and
 * Workers Logs collect), in pino's shape and with the same redaction as the Node logger.
 *
 * ```ts
 * import { createConsoleLogger } from "kratos-hooks";
 * const logger = createConsoleLogger("info");
 * logger.info({ policy: "invite-only" }, "invite checked");
 * ```
 */
export function createConsoleLogger(level: LogLevel, write: (line: string) => void = (line) => console.log(line)): Logger {
  const threshold = LEVELS[level];
  const log = (lvl: number, fields: Record<string, unknown>, msg: string) => {
    if (lvl < threshold) return;
    write(JSON.stringify({ level: lvl, time: new Date().toISOString(), service: "kratos-hooks", ...redactFields(fields), msg }));
  };
  return {
    info: (fields, message) => log(LEVELS.info, fields, message),
    warn: (fields, message) => log(LEVELS.warn, fields, message),
    error: (fields, message) => log(LEVELS.error, fields, message),
  };
}
