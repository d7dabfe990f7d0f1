// What the package tests (test/package/) share: running npm, npx and wrangler in a temporary
// project, off the network and with plain output.
import { spawnSync } from "node:child_process";

/** Keep wrangler, Miniflare and npm's update check off the network, and the output plain (the reporters' summaries are read). */
export const OFFLINE = {
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  WRANGLER_HIDE_BANNER: "true",
  DO_NOT_TRACK: "1",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_UPDATE_NOTIFIER: "1",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
};

/** Runs a command to its end in `cwd`: its exit code, and stdout and stderr together. */
export function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): { code: number | null; output: string } {
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, ...OFFLINE, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: result.status, output: `${result.stdout}\n${result.stderr}` };
}
