import { describe, expect, it } from "vitest";
import { cli } from "../support/cli.js";

describe("backfill: usage", () => {
  it.each([
    [[], "backfill needs --admin-url"],
    [["--admin-url", "kratos:4434"], "--admin-url: expected an http(s) URL"],
    [["--admin-url", "http://127.0.0.1:4434", "--region", "Germany"], "--region: expected an ISO 3166-1 alpha-2 region"],
    [["--admin-url", "http://127.0.0.1:4434", "--concurrency", "0"], "--concurrency: expected an integer from 1 to 64"],
    [["--admin-url", "http://127.0.0.1:4434", "extra"], 'unexpected argument "extra"'],
    [
      ["--admin-url", "http://127.0.0.1:4434", "--resume", "/nonexistent.checkpoint"],
      "--resume /nonexistent.checkpoint: expected a checkpoint",
    ],
  ])("%j exits 2: %s", async (args, message) => {
    const run = await cli("backfill", ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it("--help names every option and the exit codes", async () => {
    const run = await cli("backfill", "--help");
    expect(run.code).toBe(0);
    for (const option of ["--admin-url", "--token", "--region", "--dry-run", "--report", "--concurrency", "--config", "--resume"]) {
      expect(run.stdout).toContain(option);
    }
    expect(run.stdout).toContain("KRATOS_ADMIN_TOKEN");
    expect(run.stdout).toContain("every identity updated or unchanged (backfill)");
  });
});
