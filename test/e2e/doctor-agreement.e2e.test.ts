import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import type { DoctorReport } from "../../src/cli/doctor.js";
import { DOCTOR_CASES as CASES, cli, DOCTOR_FIXTURE_KEYS, doctorCaseArgs, doctorCaseConfigFile, ROOT } from "../support/cli.js";
import { freePort, startProcess, waitUntilReady } from "./processes.js";
import { kratosEnv } from "./stack.js";

// Every doctor finding with the effect `refuses_to_start` must be one real Kratos v1.3.1
// refuses to start with, and every kratos.yml Kratos refuses must get such a finding; a fixture
// whose findings are all `fails_at_runtime` or `warning` must start. Each fixture under
// test/fixtures/doctor/ (its kratos.yml, or kratos.json) is given to `kratos serve` (from its own
// folder, where its relative URLs point) and to the doctor.

// The schema URL is on the internet, which this machine cannot reach, so Kratos exits; the
// doctor does not fetch and warns that it did not check.
const NEEDS_NETWORK = new Set(["schema-remote"]);

process.env.HOOKS_API_KEYS = DOCTOR_FIXTURE_KEYS;

async function doctor(...argv: string[]): Promise<{ code: number; report: DoctorReport }> {
  const run = await cli("doctor", ...argv, "--json");
  expect(run.stderr).toBe("");
  return { code: run.code, report: JSON.parse(run.stdout) as DoctorReport };
}

/** Starts Kratos on the fixture; "ready" when its admin API answers, "refused" when it exits first. */
async function kratosStarts(name: string): Promise<{ result: "ready" | "refused"; output: string }> {
  const [publicPort, adminPort] = [await freePort(), await freePort()];
  const kratos = startProcess("kratos", inject("kratosBin"), ["serve", "--config", doctorCaseConfigFile(name)], {
    cwd: join(CASES, name),
    env: kratosEnv(publicPort, adminPort),
  });
  try {
    await waitUntilReady(kratos, `http://127.0.0.1:${adminPort}/admin/health/ready`, 20_000);
    return { result: "ready", output: kratos.output() };
  } catch {
    if (kratos.child.exitCode === null) throw new Error(`Kratos neither started nor exited for ${name}:\n${kratos.output()}`);
    return { result: "refused", output: kratos.output() };
  } finally {
    await kratos.stop();
  }
}

describe("doctor agrees with real Kratos on which configs it refuses to start", () => {
  const names = readdirSync(CASES).sort();

  it.each(names)("%s", async (name) => {
    const [{ report }, kratos] = await Promise.all([doctor(...doctorCaseArgs(name)), kratosStarts(name)]);
    const saysRefused = report.findings.some((f) => f.effect === "refuses_to_start");
    if (NEEDS_NETWORK.has(name)) {
      expect(kratos.result).toBe("refused");
      expect(report.findings.map((f) => f.code)).toEqual(["schema-remote"]);
      return;
    }
    expect({ kratos: kratos.result, doctor: saysRefused ? "refused" : "ready" }).toEqual({
      kratos: kratos.result,
      doctor: kratos.result,
    });
    if (kratos.result === "refused") expect(kratos.output).toMatch(/Unable to instantiate configuration|Error:/);
  });

  it("the shipped kratos.yml starts, and the doctor finds no error in it", async () => {
    const { code, report } = await doctor(join(ROOT, "kratos", "kratos.yml"));
    expect(code).toBe(0);
    expect(report.errors).toBe(0);
  });
});
