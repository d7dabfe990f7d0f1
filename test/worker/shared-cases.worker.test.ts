import { SELF } from "cloudflare:test";
import { beforeAll, describe, it, vi } from "vitest";
import { CASES, checkCase } from "../support/hook-cases.js";

// The Worker half of the shared table (test/http/shared-cases.test.ts is the Node half). Every
// request goes through the Worker's own entry, src/adapters/worker.ts, with the bindings that
// vitest.config.ts gives it, inside workerd.
describe("shared cases in workerd", () => {
  // The Worker logs each call through console.log; logging.worker.test.ts checks those lines.
  beforeAll(() => {
    vi.spyOn(console, "log").mockImplementation(() => {});
  });
  it.each(CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => checkCase(c, (request) => SELF.fetch(request)));
});
