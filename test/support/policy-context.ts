import type { Logger } from "../../src/core/logger.js";
import type { PolicyContext } from "../../src/core/policy.js";

/** A logger that keeps every line, for asserting what a policy or the pipeline logged. */
export function memoryLogger(): Logger & { lines: { level: string; fields: Record<string, unknown>; message: string }[] } {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, fields, message });
  };
  return { lines, info: at("info"), warn: at("warn"), error: at("error") };
}

/**
 * A policy context whose signal fires only when the returned `abort` is called; `triggerId` as
 * Kratos v25.4+ would send it, none by default (v1.3.1).
 */
export function policyContext(given: { triggerId?: string } = {}): PolicyContext & { abort: () => void } {
  const controller = new AbortController();
  return { signal: controller.signal, logger: memoryLogger(), triggerId: given.triggerId, abort: () => controller.abort() };
}
