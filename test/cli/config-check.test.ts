import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, cliProcess, ROOT } from "../support/cli.js";

function configFile(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "kratos-hooks-check-")), "config.json");
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

/** What the server prints on stderr when it refuses to start with this environment. */
async function serverStartError(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, "dist/src/adapters/node.js")], {
    env: { PATH: process.env.PATH ?? "", PORT: "0", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const [code] = await once(child, "exit");
  return { code: code as number, stderr };
}

describe("config check", () => {
  it("accepts a valid file and summarizes it", async () => {
    const file = configFile({ normalizePhone: { defaultRegion: "DE" } });
    const run = await cli("config", "check", file);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `valid: HOOKS_CONFIG_FILE (${file})\n  identity schemas  default, email, phone\n  routing rules     phone only → phone; email → email\n  phone fields      phone\n`,
    );
  });

  it.each([
    ["a typo", { normalizePhone: { defaultRegon: "DE" } }],
    ["a wrong type", { budgetMs: "fast" }],
    ["a schema id nobody declared", { routeSchema: { rules: [{ when: {}, schema: "vip" }] } }],
    ["broken JSON", "{"],
  ])("prints the server's own start-up message for %s", async (_, content) => {
    const file = configFile(content);
    const check = await cliProcess(["config", "check", file]);
    const server = await serverStartError({ HOOKS_CONFIG_FILE: file });
    expect(check.code).toBe(1);
    expect(server.code).toBe(78);
    expect(check.stdout).toBe(server.stderr);
    expect(check.stdout).toMatch(/^kratos-hooks: /);
  });

  it("without a file, checks the environment the server reads, API keys included", async () => {
    const env = { NODE_ENV: "production", HOOKS_CONFIG: '{"failMode":"open"}' };
    const check = await cliProcess(["config", "check"], { env });
    const server = await serverStartError(env);
    expect(check.code).toBe(1);
    expect(check.stdout).toBe(server.stderr);
    expect(check.stdout).toMatch(/HOOKS_API_KEYS: expected at least one API key/);
    const ok = await cliProcess(["config", "check", "--json"], { env: { ...env, HOOKS_API_KEYS: "k".repeat(32) } });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, source: "HOOKS_CONFIG", summary: { apiKeys: "1 key(s)" } });
    expect(ok.stdout).not.toContain("k".repeat(32));
  });

  it("checks the gateway's settings as the server does, and names where it forwards", async () => {
    const env = { HOOKS_API_KEYS: "k".repeat(32), GATEWAY_KRATOS_URL: "http://127.0.0.1:4455", GATEWAY_PORT: "4455", HOST: "127.0.0.1" };
    const check = await cliProcess(["config", "check"], { env });
    const server = await serverStartError(env);
    expect(check.code).toBe(1);
    expect(server.code).toBe(78);
    expect(check.stdout).toBe(server.stderr);
    expect(check.stdout).toContain("the gateway would forward to itself");
    const ok = await cliProcess(["config", "check"], { env: { ...env, GATEWAY_KRATOS_URL: "http://127.0.0.1:4433" } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("  gateway           port 4455 → http://127.0.0.1:4433/ (timeout 100000 ms)\n");
  });

  it("usage errors exit 2", async () => {
    expect((await cli("config")).code).toBe(2);
    expect((await cli("config", "lint")).stderr).toMatch(/unknown config command "lint"/);
    expect((await cli("config", "check", "a.json", "b.json")).code).toBe(2);
  });
});
