import type { LogLevel } from "../config/env.js";
import type { Logger } from "../core/logger.js";
import { REDACTED_KEYS } from "../core/redact.js";

/** pino's numeric levels, so Node and Worker log lines read the same. */
const LEVELS: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const REDACTED = new Set<string>(REDACTED_KEYS);

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (REDACTED.has(key)) out[key] = "[redacted]";
    else if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const inner: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) inner[k] = REDACTED.has(k) ? "[redacted]" : v;
      out[key] = inner;
    } else out[key] = value;
  }
  return out;
}

/**
 * The Workers logger: one JSON line per call through `console.log` (what `wrangler tail` and
 * Workers Logs collect), in pino's shape and with the same redaction as the Node logger.
 */
export function createConsoleLogger(level: LogLevel, write: (line: string) => void = (line) => console.log(line)): Logger {
  const threshold = LEVELS[level];
  const log = (lvl: number, fields: Record<string, unknown>, msg: string) => {
    if (lvl < threshold) return;
    write(JSON.stringify({ level: lvl, time: new Date().toISOString(), service: "kratos-hooks", ...redact(fields), msg }));
  };
  return {
    info: (fields, message) => log(LEVELS.info, fields, message),
    warn: (fields, message) => log(LEVELS.warn, fields, message),
    error: (fields, message) => log(LEVELS.error, fields, message),
  };
}
