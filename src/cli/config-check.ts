import { describeSources, readNodeConfig, readNodeSettings } from "../config/node-settings.js";
import { ConfigError } from "../config/parse.js";
import type { Config } from "../config/schema.js";

export interface ConfigCheckReport {
  source: string;
  valid: boolean;
  /** The server's own start-up message when invalid, one problem per line. */
  error?: string;
  summary?: { identitySchemas: string[]; routingRules: string[]; phoneFields: string[]; apiKeys?: string; gateway?: string };
  exitCode: 0 | 1;
}

function summarize(config: Config): NonNullable<ConfigCheckReport["summary"]> {
  return {
    identitySchemas: Object.keys(config.identitySchemas),
    routingRules: config.routeSchema.rules.map((r, i) => `${r.name ?? `rule ${i + 1}`} → ${r.schema}`),
    phoneFields: config.normalizePhone.enabled ? config.normalizePhone.fields : [],
  };
}

/**
 * Validates our configuration exactly as the server does at start (same loader, same messages):
 * the file alone when given, else the whole start-up environment.
 */
export function runConfigCheck(file: string | undefined): ConfigCheckReport {
  const env = file === undefined ? process.env : { HOOKS_CONFIG_FILE: file };
  const source = describeSources(env);
  try {
    if (file !== undefined) return { source, valid: true, summary: summarize(readNodeConfig(env)), exitCode: 0 };
    const settings = readNodeSettings(env);
    const apiKeys = settings.usingDevKey ? "development key only (HOOKS_API_KEYS unset)" : `${settings.apiKeys.length} key(s)`;
    const gateway =
      settings.gateway === undefined
        ? "off (GATEWAY_KRATOS_URL unset)"
        : `port ${settings.gateway.port} → ${settings.gateway.upstream.href} (timeout ${settings.config.gateway.upstreamTimeoutMs} ms)`;
    return { source, valid: true, summary: { ...summarize(settings.config), apiKeys, gateway }, exitCode: 0 };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { source, valid: false, error: error.message, exitCode: 1 };
  }
}

export function formatConfigCheck(report: ConfigCheckReport): string {
  if (!report.valid) return `kratos-hooks: ${report.error}\n`;
  const s = report.summary;
  const lines = [`valid: ${report.source}`];
  if (s !== undefined) {
    lines.push(`  identity schemas  ${s.identitySchemas.join(", ")}`);
    lines.push(`  routing rules     ${s.routingRules.join("; ") || "(none)"}`);
    lines.push(`  phone fields      ${s.phoneFields.join(", ") || "(normalization off)"}`);
    if (s.apiKeys !== undefined) lines.push(`  API keys          ${s.apiKeys}`);
    if (s.gateway !== undefined) lines.push(`  gateway           ${s.gateway}`);
  }
  return `${lines.join("\n")}\n`;
}
