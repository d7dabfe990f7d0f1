import { describe, expect, it } from "vitest";
import { createPinoLogger } from "../../src/adapters/node-logger.js";
import { createConsoleLogger } from "../../src/adapters/worker-logger.js";
import { createTestApp, fixtureNames, loadFixture, TEST_KEY } from "../support/helpers.js";
import { secretsIn } from "../support/hook-cases.js";

describe("logs hold no personal data, credentials or cookies in clear", () => {
  it("over every fixture, under configs that allow, patch and deny them", async () => {
    const configs = [
      {},
      { denyRules: { denyDomains: ["example.com", "example.org"], login: { metadataPublic: [{ key: "blocked", equals: true }] } } },
      { normalizePhone: { defaultRegion: "DE", allowedTypes: ["FIXED_LINE"] } },
    ];
    const secrets = new Set<string>([TEST_KEY, "wrong-key-0123456789abcdef"]);
    let output = "";
    let calls = 0;
    for (const config of configs) {
      const app = createTestApp({ config });
      for (const name of fixtureNames()) {
        const body = loadFixture(name);
        for (const secret of secretsIn(body)) secrets.add(secret);
        const hook = name.split(".")[0] ?? "";
        await app.call(hook, body);
        await app.call(hook, body, { headers: { authorization: "Bearer wrong-key-0123456789abcdef" } });
        await app.call(hook, JSON.stringify(body).slice(0, -3)); // broken JSON that still holds the values
        calls += 3;
      }
      output += app.rawLogs();
    }
    const lines = output.split("\n").filter(Boolean);
    expect(lines.filter((l) => l.includes('"hook call"'))).toHaveLength(calls);
    expect(secrets.size).toBeGreaterThan(20);
    for (const secret of secrets) expect(output, `log output contains ${JSON.stringify(secret)}`).not.toContain(secret);
    // The masks are there, so the lines still identify whose call it was.
    expect(output).toContain('"phone":"+49******5678"');
    expect(output).toContain('"email":"J***@Example.com"');
  });
});

describe("both loggers redact credentials and cookies a caller might pass by mistake", () => {
  const fields = {
    hook: "login-after",
    authorization: "Bearer leaked-key-0123456789",
    headers: { cookie: "ory_kratos_session=leaked" },
    n: 1,
  };

  it.each([
    ["pino (Node)", (write: (line: string) => void) => createPinoLogger("info", { write })],
    ["console JSON (Workers)", (write: (line: string) => void) => createConsoleLogger("info", write)],
  ])("%s", (_name, create) => {
    let output = "";
    create((line) => {
      output += line;
    }).info(fields, "hook call");
    const line = JSON.parse(output);
    expect(line).toMatchObject({ level: 30, service: "kratos-hooks", msg: "hook call", hook: "login-after", n: 1 });
    expect(line.authorization).toBe("[redacted]");
    expect(line.headers).toEqual({ cookie: "[redacted]" });
    expect(output).not.toContain("leaked");
  });
});

describe("the trace Kratos sends goes on our line", () => {
  it("traceId and spanId from a valid traceparent; nothing from a malformed one", async () => {
    const app = createTestApp();
    const body = loadFixture("login-after.password");
    await app.call("login-after", body, { headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } });
    await app.call("login-after", body, { headers: { traceparent: "00-not-a-trace" } });
    const [traced, plain] = app.logs().filter((l) => l.msg === "hook call");
    expect(traced).toMatchObject({ traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" });
    expect(plain).not.toHaveProperty("traceId");
  });
});
