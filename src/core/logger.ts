/** Structured logging, implemented by pino on Node and by console JSON on Workers. */
export interface Logger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** A logger that adds `fields` to every line (a line's own fields win). */
export function withFields(logger: Logger, fields: Record<string, unknown>): Logger {
  return {
    info: (own, message) => logger.info({ ...fields, ...own }, message),
    warn: (own, message) => logger.warn({ ...fields, ...own }, message),
    error: (own, message) => logger.error({ ...fields, ...own }, message),
  };
}
