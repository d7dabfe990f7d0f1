import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { missingTsx, probeFile, resolveTsx, type TsxCli } from "./dev-entry.js";
import type { EntryEvents } from "./dev-entry-events.js";
import { startEntry } from "./dev-entry-run.js";
import { type Child, startChild } from "./dev-processes.js";
import { PACKAGE_ROOT } from "./usage.js";

// How `kratos-hooks dev` runs the hooks and the gateway: our server, or your entry through tsx watch.

/** The service dev runs: `npm start`'s server, or your entry with the tsx that runs it and the probe it preloads. */
export type DevService = { kind: "ours"; server: string } | { kind: "entry"; entry: string; tsx: TsxCli; probe: string };

/** Why the stack cannot start that is no usage mistake (not built, no tsx, a port taken): said, and exit 1. */
export class DevStartError extends Error {
  override name = "DevStartError";
}

/** The Node server `npm start` runs: dist/src/adapters/node.js (the CLI starts it, never imports it). */
function serverEntry(): string {
  const beside = fileURLToPath(new URL("../adapters/node.js", import.meta.url));
  return existsSync(beside) ? beside : join(PACKAGE_ROOT, "dist", "src", "adapters", "node.js");
}

/** Our server without `entry`, else your entry; what it needs must be there (built, tsx found), or DevStartError. */
export function chooseDevService(entry: string | undefined): DevService {
  if (entry === undefined) {
    const server = serverEntry();
    if (!existsSync(server)) throw new DevStartError(`the server is not built (${server}); run \`npm run build\` first`);
    return { kind: "ours", server };
  }
  const tsx = resolveTsx(dirname(entry));
  if (tsx === undefined) throw new DevStartError(missingTsx(entry));
  const probe = probeFile();
  if (!existsSync(probe)) throw new DevStartError(`kratos-hooks is not built (${probe}); run \`npm run build\` first`);
  return { kind: "entry", entry, tsx, probe };
}

/** Starts the service with `env`, its log in `dir`; your entry also reports its starts and exits (`events`). */
export function startDevService(service: DevService, env: NodeJS.ProcessEnv, dir: string): { child: Child; events?: EntryEvents } {
  if (service.kind === "entry") return startEntry(service, env, dir);
  return { child: startChild("the hooks service", process.execPath, [service.server], { env, log: join(dir, "hooks.log") }) };
}

/** How long the service may take to answer its health check: tsx compiles your entry first. */
export function serviceStartMs(service: DevService): number {
  return service.kind === "ours" ? 20_000 : 30_000;
}
