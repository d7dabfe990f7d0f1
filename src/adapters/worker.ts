// The shipped Worker (wrangler.toml `main`): a user of the public Worker entry like any other
// (test/architecture/imports.test.ts holds it to the public entries).
import { createWorker } from "../worker.js";

export type { Env } from "../worker.js";

export default createWorker();
