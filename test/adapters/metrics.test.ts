import { describe, expect, it } from "vitest";
import { createPrometheusMetrics } from "../../src/adapters/node-metrics.js";
import { createConsoleLogger } from "../../src/adapters/worker-logger.js";
import { parseConfig } from "../../src/config/parse.js";
import type { Policy } from "../../src/core/policy.js";
import { createApp } from "../../src/http/app.js";
import { loadFixture, TEST_KEY } from "../support/helpers.js";
import { run, start } from "../support/server-process.js";
import { useUpstream } from "../support/upstream.js";

const upstream = useUpstream();

/** One sample of `name` with exactly these labels, from Prometheus's text format. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(",");
  for (const line of text.split("\n")) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    if ((match[2] ?? "").split(",").sort().join(",") === want) return Number(match[3]);
  }
  return undefined;
}

async function hook(port: number, name: string, body: unknown, key = TEST_KEY) {
  const res = await fetch(`http://127.0.0.1:${port}/hooks/${name}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

describe("metrics (Prometheus) on a listener of their own", () => {
  it("count a budget overrun, by hook, with its HOOK_TIMEOUT denial", async () => {
    const { metrics, registry } = createPrometheusMetrics();
    const hanging: Policy = { name: "hangs", hooks: new Set(["login-after"]), decide: () => new Promise(() => {}) };
    const app = createApp({
      config: parseConfig({ budgetMs: 20 }, "test"),
      apiKeys: [TEST_KEY],
      logger: createConsoleLogger("silent"),
      metrics,
      policies: [hanging],
    });
    const res = await app.request("/hooks/login-after", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(loadFixture("login-after.password")),
    });
    expect(res.status).toBe(422);
    const text = await registry.metrics();
    expect(sample(text, "kratos_hooks_budget_overruns_total", { hook: "login-after" })).toBe(1);
    expect(sample(text, "kratos_hooks_hook_calls_total", { hook: "login-after", decision: "timeout", status: "422" })).toBe(1);
    expect(sample(text, "kratos_hooks_denials_total", { key: "HOOK_TIMEOUT", policy: "budget" })).toBe(1);
  });

  it("count a failing policy by hook and policy, answered by failMode, with its HOOK_FAILED denial as the service's", async () => {
    const { metrics, registry } = createPrometheusMetrics();
    const broken: Policy = {
      name: "broken",
      hooks: new Set(["registration-after"]),
      decide: () => {
        throw new Error("bug");
      },
    };
    // A decision Kratos would misread counts the same as a throw: a patch on login-after.
    const patcher: Policy = {
      name: "patcher",
      hooks: new Set(["login-after"]),
      decide: () => ({ kind: "patch", identity: { schemaId: "x" } }),
    };
    const appFor = (failMode: "open" | "closed") =>
      createApp({
        config: parseConfig({ failMode }, "test"),
        apiKeys: [TEST_KEY],
        logger: createConsoleLogger("silent"),
        metrics,
        policies: [broken, patcher],
      });
    const call = async (failMode: "open" | "closed", name: string, fixture: string) => {
      const res = await appFor(failMode).request(`/hooks/${name}`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(loadFixture(fixture)),
      });
      return res.status;
    };
    expect(await call("closed", "registration-after", "registration-after.password-email")).toBe(422);
    expect(await call("open", "registration-after", "registration-after.password-email")).toBe(204);
    expect(await call("closed", "login-after", "login-after.password")).toBe(422);
    const text = await registry.metrics();
    expect(sample(text, "kratos_hooks_policy_failures_total", { hook: "registration-after", policy: "broken" })).toBe(2);
    expect(sample(text, "kratos_hooks_policy_failures_total", { hook: "login-after", policy: "patcher" })).toBe(1);
    expect(sample(text, "kratos_hooks_hook_calls_total", { hook: "registration-after", decision: "failed", status: "422" })).toBe(1);
    expect(sample(text, "kratos_hooks_hook_calls_total", { hook: "registration-after", decision: "failed", status: "204" })).toBe(1);
    expect(sample(text, "kratos_hooks_hook_calls_total", { hook: "login-after", decision: "failed", status: "422" })).toBe(1);
    // Only the closed answers showed the message, and it is the service's, whichever policy failed.
    expect(sample(text, "kratos_hooks_denials_total", { key: "HOOK_FAILED", policy: "failure" })).toBe(2);
    expect(text).not.toMatch(/^kratos_hooks_denials_total\{[^}]*policy="(broken|patcher)"/m);
    expect(sample(text, "kratos_hooks_budget_overruns_total", { hook: "registration-after" })).toBeUndefined();
  });

  it("count hook calls by decision and status, denials by key and policy, latency per hook, gateway requests, and the process", async () => {
    const server = await start({ METRICS_PORT: "0", GATEWAY_KRATOS_URL: upstream.url });
    expect(await hook(server.port, "registration-after", loadFixture("registration-after.password-phone-national"))).toBe(200);
    expect(await hook(server.port, "registration-after", loadFixture("registration-after.disposable-email"))).toBe(422);
    expect(await hook(server.port, "registration-after", loadFixture("registration-after.phone-invalid"))).toBe(422);
    expect(await hook(server.port, "login-after", loadFixture("login-after.password"))).toBe(204);
    expect(await hook(server.port, "login-after", loadFixture("login-after.password"), "wrong-key-0123456789abcdef")).toBe(401);
    await (
      await fetch(`http://127.0.0.1:${server.gatewayPort}/self-service/login?flow=x`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ identifier: "+49 176 1234 5678" }),
      })
    ).arrayBuffer();
    await (await fetch(`http://127.0.0.1:${server.gatewayPort}/sessions/whoami`)).arrayBuffer();

    const res = await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, "kratos_hooks_hook_calls_total", { hook: "registration-after", decision: "patch", status: "200" })).toBe(1);
    expect(sample(text, "kratos_hooks_hook_calls_total", { hook: "registration-after", decision: "deny", status: "422" })).toBe(2);
    expect(sample(text, "kratos_hooks_hook_calls_total", { hook: "login-after", decision: "continue", status: "204" })).toBe(1);
    expect(sample(text, "kratos_hooks_hook_calls_total", { hook: "login-after", decision: "rejected", status: "401" })).toBe(1);
    expect(sample(text, "kratos_hooks_denials_total", { key: "EMAIL_DOMAIN_DISPOSABLE", policy: "denyRules" })).toBe(1);
    expect(sample(text, "kratos_hooks_denials_total", { key: "PHONE_INVALID", policy: "normalizePhone" })).toBe(1);
    expect(sample(text, "kratos_hooks_hook_duration_seconds_count", { hook: "registration-after" })).toBe(3);
    expect(sample(text, "kratos_hooks_gateway_requests_total", { route: "/self-service/login", status: "200", rewritten: "true" })).toBe(1);
    expect(sample(text, "kratos_hooks_gateway_requests_total", { route: "/sessions/whoami", status: "200", rewritten: "false" })).toBe(1);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    // Nothing else is served there, and the metrics are on no other listener.
    expect((await fetch(`http://127.0.0.1:${server.metricsPort}/hooks/login-after`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`)).status).toBe(404);
  });

  it("stay up through the drain, for a last scrape, while /health answers 503", async () => {
    const server = await start({ METRICS_PORT: "0", SHUTDOWN_DRAIN_MS: "1500" });
    expect(await hook(server.port, "login-after", loadFixture("login-after.password"))).toBe(204);
    server.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(503);
    const res = await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(sample(await res.text(), "kratos_hooks_hook_calls_total", { hook: "login-after", decision: "continue", status: "204" })).toBe(1);
    expect(await server.exit).toBe(0);
  });

  it("are off without METRICS_PORT, bound to loopback by default, and never on a port the others use", async () => {
    const off = await start();
    expect(off.lines.some((l) => l.listener === "metrics")).toBe(false);
    const on = await start({ METRICS_PORT: "0" });
    expect(on.lines.find((l) => l.listener === "metrics")).toMatchObject({ host: "127.0.0.1" });
    const clash = run({ PORT: "9911", HOST: "127.0.0.1", HOOKS_API_KEYS: TEST_KEY, METRICS_PORT: "9911" });
    expect(await clash.exit).toBe(78);
    expect(clash.stderr()).toContain("METRICS_PORT: expected a port of its own");
  });
});
