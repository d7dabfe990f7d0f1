import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { passwordSignUp } from "./kratos-client.js";
import { freePort } from "./processes.js";
import { E2E_HOOKS_CONFIG, hookLog, useStack } from "./stack.js";

// Kratos v1.3.1 with its tracing on (`tracing.provider: otel`; the OTLP endpoint is a closed
// port, so spans go nowhere, but the trace context is still propagated): the web_hook calls carry
// Kratos's traceparent, and our log line names that trace.
const unusedPort = await freePort();
const e2e = useStack(E2E_HOOKS_CONFIG, {
  editKratos: (config) => {
    config.tracing = {
      provider: "otel",
      service_name: "kratos-e2e",
      providers: { otlp: { server_url: `127.0.0.1:${unusedPort}`, insecure: true, sampling: { sampling_ratio: 1 } } },
    };
  },
});

/** Kratos's own log lines (JSON) that carry an `otel` trace. */
function kratosTraces(): { trace_id: string; path?: string; method?: string }[] {
  return e2e.stack.kratos
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{") && line.includes('"otel"'))
    .map((line) => JSON.parse(line) as { otel: { trace_id: string }; http_request?: { path?: string; method?: string } })
    .map((line) => ({ trace_id: line.otel.trace_id, path: line.http_request?.path, method: line.http_request?.method }));
}

describe("our log line carries the trace of the Kratos request that called the hook", () => {
  it("a trace the client started: Kratos continues it, and so does our line", async () => {
    const traceId = randomBytes(16).toString("hex");
    const traceparent = `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
    const before = hookLog(e2e.stack).length;
    const res = await e2e.kratos.run("registration", passwordSignUp({ email: "traced@example.org" }), { traceparent });
    expect(res.status).toBe(200);
    await vi.waitFor(() => {
      const calls = hookLog(e2e.stack).slice(before);
      expect(calls.map((l) => [l.hook, l.traceId])).toEqual(
        expect.arrayContaining([
          ["registration-before", traceId],
          ["registration-after", traceId],
        ]),
      );
    });
  });

  it("a trace Kratos started itself: our line has the trace id Kratos logs for the submit", async () => {
    const before = hookLog(e2e.stack).length;
    const res = await e2e.kratos.run("login", { method: "password", identifier: "traced@example.org", password: "wrong password here" });
    expect(res.status).toBe(400);
    await vi.waitFor(() =>
      expect(
        hookLog(e2e.stack)
          .slice(before)
          .find((l) => l.hook === "login-after" || l.hook === "login-before"),
      ).toBeDefined(),
    );
    const ours = hookLog(e2e.stack)
      .slice(before)
      .filter((l) => l.hook === "login-before")
      .map((l) => l.traceId);
    expect(ours).toHaveLength(1);
    const submits = kratosTraces().filter((t) => t.path === "/self-service/login/api");
    expect(submits.map((t) => t.trace_id)).toContain(ours[0]);
    expect(ours[0]).toMatch(/^[0-9a-f]{32}$/);
  });
});
