import { SELF } from "cloudflare:test";
import { describe, it } from "vitest";
import { CASES, checkCase } from "../shared/hook-cases.js";

// The Worker half of the shared table (test/http/shared-cases.test.ts is the Node half). Every
// request goes through the Worker's own entry, src/adapters/worker.ts, with the bindings that
// vitest.config.ts gives it, inside workerd.
describe("shared cases in workerd", () => {
  it.each(CASES.map((c) => [c.name, c] as const))("%s", (_name, c) => checkCase(c, (request) => SELF.fetch(request)));
});
