import { fileURLToPath } from "node:url";
import { type Running, startProcess, waitUntilReady } from "../e2e/processes.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

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

/**
 * `wrangler dev` (local workerd, as deployed: no code generation) with the repository's
 * wrangler.toml and .dev.vars, on `port`, with `vars` overriding the bindings.
 */
export async function startWranglerDev(port: number, vars: Record<string, string>): Promise<Running> {
  const args = ["dev", "--port", String(port), "--ip", "127.0.0.1", "--show-interactive-dev-session=false"];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const proc = startProcess("wrangler dev", fileURLToPath(new URL("node_modules/.bin/wrangler", `file://${ROOT}`)), args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...WRANGLER_OFFLINE_ENV },
  });
  await waitUntilReady(proc, `http://127.0.0.1:${port}/health`, 60_000);
  return proc;
}

/** The Worker's JSON log lines among wrangler's own output. */
export function workerLogLines(output: string): string {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .join("\n");
}
