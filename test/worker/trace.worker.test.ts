import { SELF } from "cloudflare:test";
import { expect, it, vi } from "vitest";
import loginAfter from "../../kratos/examples/login-after.password.json" with { type: "json" };
import { SHARED_KEY } from "../support/hook-cases.js";

// The Worker reads Kratos's traceparent into its log line as Node does.
it("puts the caller's traceId and spanId on the hook call line", async () => {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
    lines.push(String(line));
  });
  try {
    const res = await SELF.fetch("http://worker.test/hooks/login-after", {
      method: "POST",
      headers: {
        authorization: `Bearer ${SHARED_KEY}`,
        "content-type": "application/json",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      },
      body: JSON.stringify(loginAfter),
    });
    await res.arrayBuffer();
  } finally {
    spy.mockRestore();
  }
  const line = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "hook call");
  expect(line).toMatchObject({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" });
});
