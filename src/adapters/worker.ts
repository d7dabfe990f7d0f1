// The shipped Worker (wrangler.toml `main`): a user of the public Worker entry like any other
// (test/architecture/imports.test.ts holds it to the public entries).
import { createWorker } from "../worker.js";

export type { Env } from "../worker.js";
// Wrangler finds Durable Object classes among the main module's exports: the shield's store.
export { ShieldCounters } from "../worker.js";

export default createWorker();
