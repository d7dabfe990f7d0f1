import pino, { type DestinationStream } from "pino";
import type { LogLevel } from "../config/env.js";
import type { Logger } from "../core/logger.js";
import { redactFields } from "../core/redact.js";

/**
 * pino behind our Logger interface. We never pass personal data to the logger; redacting
 * `REDACTED_KEYS` is a second line of defence should a future field carry credentials or cookies.
 */
export function createPinoLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const log = pino(
    {
      level,
      base: { service: "kratos-hooks" },
      timestamp: pino.stdTimeFunctions.isoTime,
      // The same redaction as the Worker's logger; cheaper than pino's wildcard `redact` paths.
      formatters: { log: redactFields },
    },
    destination,
  );
  return {
    info: (fields, message) => log.info(fields, message),
    warn: (fields, message) => log.warn(fields, message),
    error: (fields, message) => log.error(fields, message),
  };
}
