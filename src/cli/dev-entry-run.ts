import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { TsxCli } from "./dev-entry.js";
import { DEV_EVENTS_ENV, EntryEvents } from "./dev-entry-events.js";
import { type Child, startChild, tail, waitReady } from "./dev-processes.js";
import { displayPath } from "./usage.js";

// `kratos-hooks dev --entry`: your entry under tsx watch, and what dev says as tsx reruns it.

/** Your entry under `tsx watch` (rerun on a change), with the probe that reports its starts and exits. */
export function startEntry(
  service: { entry: string; tsx: TsxCli; probe: string },
  env: NodeJS.ProcessEnv,
  dir: string,
): { child: Child; events: EntryEvents } {
  const events = new EntryEvents(join(dir, "entry-events.jsonl"));
  const args = [service.tsx.cli, "watch", "--clear-screen=false", "--import", pathToFileURL(service.probe).href, service.entry];
  const started = startChild(`your service (${displayPath(service.entry)})`, process.execPath, args, {
    env: { ...env, [DEV_EVENTS_ENV]: events.file },
    log: join(dir, "entry.log"),
  });
  const child: Child = {
    ...started,
    stopped: () => {
      const exit = events.exited();
      return exit && `exited with code ${exit.code} before it was ready (tsx watch waits for a change, dev stops)`;
    },
    hint: "it must call serve() from kratos-hooks/node, which reads PORT, GATEWAY_KRATOS_URL and GATEWAY_PORT from the environment dev sets",
  };
  return { child, events };
}

/** The file tsx watch last said changed (`[tsx] change in ./src/x.ts Restarting...`), as a person would type it. */
function changedFile(log: string): string | undefined {
  const said = [...tail(log, 200).matchAll(/\[tsx\] \w+ in (\S+)/g)].at(-1)?.[1];
  return said === undefined ? undefined : displayPath(resolve(said));
}

/**
 * Once the stack is up: says when tsx watch reran your entry and when it is ready again, and when
 * it exited with an error (tsx then waits for the next change, and dev keeps running).
 */
export function followRestarts(
  c: Child,
  events: EntryEvents,
  urls: { hooks: string; gateway: string },
  io: { out: (text: string) => void; err: (text: string) => void },
  stop: AbortSignal,
): () => void {
  let seen = events.since(0).length;
  let generation = 0;
  const timer = setInterval(() => {
    const fresh = events.since(seen);
    seen += fresh.length;
    for (const e of fresh) {
      if (e.event === "exit" && e.code !== 0) {
        io.err(
          `kratos-hooks dev: ${c.name} exited with code ${e.code}; tsx watch reruns it when you save a change. Its log (${c.log}):\n${tail(c.log)}\n`,
        );
      }
    }
    if (fresh.at(-1)?.event !== "start") return;
    const mine = ++generation;
    io.out(`kratos-hooks dev: tsx watch reran ${c.name}: ${changedFile(c.log) ?? "a file"} changed\n`);
    waitReady(c, `${urls.hooks}/health`, 30_000, stop)
      .then(() => waitReady(c, `${urls.gateway}/health/ready`, 10_000, stop))
      .then(
        () => {
          if (mine === generation) io.out(`kratos-hooks dev: ${c.name} is ready again\n`);
        },
        (error: Error) => {
          // An exit is said above, when it is read.
          if (mine === generation && !stop.aborted && c.stopped?.() === undefined) io.err(`kratos-hooks dev: ${error.message}\n`);
        },
      );
  }, 250);
  return () => clearInterval(timer);
}
