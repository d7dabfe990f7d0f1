// Preloaded into the soak's steady server (`node --expose-gc --import <this file>`). On SIGUSR2 it
// runs a full garbage collection and appends the process's memory after it to SOAK_MEMORY_FILE,
// one JSON line per signal. The live heap after a full collection is what a leak in our code
// raises; resident memory also holds garbage V8 has not collected yet (a 30 s run can end before
// its first major collection after the warm-up). Nothing here is loaded by `npm start`.
import { appendFileSync } from "node:fs";

const file = process.env.SOAK_MEMORY_FILE;
if (!file || typeof globalThis.gc !== "function") {
  throw new Error("memory-probe needs --expose-gc and SOAK_MEMORY_FILE");
}
process.on("SIGUSR2", () => {
  globalThis.gc();
  const { rss, heapUsed, external } = process.memoryUsage();
  appendFileSync(file, `${JSON.stringify({ rss, heapUsed, external })}\n`);
});
