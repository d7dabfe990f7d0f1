import { SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { CASES, checkLogs, toRequest } from "../support/hook-cases.js";

// The Worker logs through console.log (src/adapters/worker-logger.ts); the same checks as on Node.
it("logs every case in pino's shape with nothing personal in clear", async () => {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    lines.push(String(line));
  });
  try {
    for (const c of CASES) await (await SELF.fetch(toRequest(c))).arrayBuffer();
  } finally {
    spy.mockRestore();
  }
  expect(lines.length).toBeGreaterThan(0);
  checkLogs(lines.join("\n"));
});
