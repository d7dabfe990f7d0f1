import { describe, it } from "vitest";
import { createTestApp } from "../support/helpers.js";
import { CASES, checkCase, checkLogs, SHARED_CONFIG, SHARED_KEY, toRequest } from "../support/hook-cases.js";

// The Node half of the shared table; test/worker/shared-cases.worker.test.ts runs the same in workerd.
describe("shared cases on Node", () => {
  const { app } = createTestApp({ config: SHARED_CONFIG, keys: [SHARED_KEY] });
  it.each(CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => checkCase(c, async (request) => app.request(request)));
});

describe("shared log checks on Node (pino)", () => {
  it("logs every case in pino's shape with nothing personal in clear", async () => {
    const { app, rawLogs } = createTestApp({ config: SHARED_CONFIG, keys: [SHARED_KEY] });
    for (const c of CASES) await app.request(toRequest(c));
    checkLogs(rawLogs());
  });
});
