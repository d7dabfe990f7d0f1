import { SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import { CASES, checkCase } from "../support/hook-cases.js";

// Deployed Workers refuse `eval` and `new Function`; the test pool allows them (its module
// runner needs them), so this file watches for any attempt instead. The Worker runs in this
// isolate, and this file's first request builds its app, so construction is covered too.
it("nothing builds or answers a request with run-time code generation", async () => {
  const quiet = vi.spyOn(console, "log").mockImplementation(() => {});
  const attempts: string[] = [];
  const OriginalFunction = globalThis.Function;
  // biome-ignore lint/security/noGlobalEval: saved to wrap it, not called.
  const originalEval = globalThis.eval;
  globalThis.Function = new Proxy(OriginalFunction, {
    construct(target, args, newTarget) {
      attempts.push("new Function");
      return Reflect.construct(target, args, newTarget);
    },
    apply(target, self, args) {
      attempts.push("Function()");
      return Reflect.apply(target, self, args);
    },
  });
  globalThis.eval = new Proxy(originalEval, {
    apply(target, self, args) {
      attempts.push("eval");
      return Reflect.apply(target, self, args);
    },
  });
  try {
    // The watch itself works:
    new globalThis.Function("return 1");
    expect(attempts).toEqual(["new Function"]);
    attempts.length = 0;

    for (const c of CASES) await checkCase(c, (request) => SELF.fetch(request));
  } finally {
    globalThis.Function = OriginalFunction;
    globalThis.eval = originalEval;
    quiet.mockRestore();
  }
  expect(attempts).toEqual([]);
});
