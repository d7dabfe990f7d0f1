import { fileURLToPath } from "node:url";
import { type Running, startProcess, waitUntilReady } from "../e2e/processes.js";
import { WRANGLER_OFFLINE_ENV } from "./offline-env.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

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
