/**
 * What keeps wrangler off the network: no telemetry, no error reports, no `request.cf` fetch,
 * and no banner (printing it checks the npm registry for a newer wrangler).
 */
export const WRANGLER_OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_HIDE_BANNER: "true",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  DO_NOT_TRACK: "1",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
};
