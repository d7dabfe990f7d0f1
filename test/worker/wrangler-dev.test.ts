import { afterAll, beforeAll, describe, it, vi } from "vitest";
import { freePort, type Running } from "../e2e/processes.js";
import { CASES, checkCase, checkLogs, SHARED_CONFIG, SHARED_KEY } from "../shared/hook-cases.js";
import { startWranglerDev, workerLogLines } from "./wrangler-dev.js";

// The shared table a third time: over HTTP to `wrangler dev`, which runs the Worker in workerd
// under deployment rules (it refuses `new Function`; the test pool allows it).
let worker: Running;
let url: string;

beforeAll(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  worker = await startWranglerDev(port, { HOOKS_API_KEYS: SHARED_KEY, HOOKS_CONFIG: JSON.stringify(SHARED_CONFIG) });
}, 90_000);
afterAll(async () => {
  await worker?.stop();
});

describe("shared cases against wrangler dev", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", (_name, c) =>
    checkCase(c, (request) => {
      const target = new URL(request.url);
      return fetch(`${url}${target.pathname}`, request);
    }),
  );

  it("logged each case in pino's shape with nothing personal in clear", async () => {
    // The last line may reach the pipe a moment after its answer.
    await vi.waitFor(() => checkLogs(workerLogLines(worker.output())));
  });
});
