// Preloaded into the service `kratos-hooks dev --entry` runs (`tsx watch --import <this> <entry>`):
// it tells dev when the entry starts and when it exits. tsx watch itself stays up when the entry
// dies and says nothing dev could read, so without this dev would only see a timeout.
import { appendFileSync } from "node:fs";
import { DEV_EVENTS_ENV } from "./dev-entry-events.js";

const file = process.env[DEV_EVENTS_ENV];
// The entry's own environment is the one dev passes, without this line of plumbing.
delete process.env[DEV_EVENTS_ENV];
if (file) {
  const write = (event: object) => appendFileSync(file, `${JSON.stringify({ ...event, pid: process.pid })}\n`);
  write({ event: "start" });
  // Not on a signal without a handler (tsx's SIGTERM at a rerun): the next "start" says that one.
  process.on("exit", (code) => write({ event: "exit", code }));
}
