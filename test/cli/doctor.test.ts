import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { doctorCaseArgs as args, DOCTOR_CASES as CASES, cli, cliProcess, editedKratosYml, ROOT } from "./cli.js";

const names = readdirSync(CASES).sort();

async function doctor(...argv: string[]) {
  const run = await cli("doctor", ...argv, "--json");
  expect(run.stderr).toBe("");
  return { code: run.code, report: JSON.parse(run.stdout) };
}

const WARNINGS_ONLY = new Set(["auth-dev-key", "schema-remote", "schema-drift", "gateway-base-url"]);

describe("doctor: one broken kratos.yml or schema per finding (test/fixtures/doctor/<finding>/)", () => {
  it("the base case is clean", async () => {
    const { code, report } = await doctor(...args("ok"));
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
  });

  it.each(names.filter((n) => n !== "ok"))("%s", async (name) => {
    const { code, report } = await doctor(...args(name));
    expect(report.findings.map((f: { code: string }) => f.code)).toEqual([name]);
    const [finding] = report.findings;
    expect(finding.severity).toBe(WARNINGS_ONLY.has(name) ? "warning" : "error");
    expect(code).toBe(WARNINGS_ONLY.has(name) ? 0 : 1);
    expect(finding.message.length).toBeGreaterThan(20);
    expect(finding.fix.length).toBeGreaterThan(5);
    // The finding names the file it is in; a kratos.yml finding also names its line (a
    // missing section has none).
    expect(finding.file).toMatch(/^test\/fixtures\/doctor\/|hooks-config|kratos-hooks config/);
    if (finding.file.endsWith("kratos.yml") && name !== "identity-missing") {
      expect(finding.line).toBeGreaterThan(2);
      const line = readFileSync(join(ROOT, finding.file), "utf8").split("\n")[finding.line - 1];
      expect(line).toBeDefined();
    }
  });
});

describe("doctor: what the findings say", () => {
  it("names the schema file and what is missing for the classic allOf failure", async () => {
    const { report } = await doctor(...args("schema-no-properties"));
    expect(report.findings[0]).toMatchObject({
      file: "test/fixtures/doctor/schema-no-properties/email.schema.json",
      path: "#",
      message: expect.stringContaining('S[#/allOf/1/required] missing properties: "properties"` (found "traits" at the top level)'),
    });
  });

  it("says which working directory it assumed for relative file:// URLs, and --cwd changes it", async () => {
    const { report } = await doctor(...args("schema-unreadable"));
    expect(report.findings[0].message).toContain(`working directory, assumed to be ${join(CASES, "schema-unreadable")}`);
    const moved = await doctor(join(CASES, "schema-unreadable", "kratos.yml"), "--cwd", ROOT);
    // From the repository root, ./schemas/email.schema.json exists; the ../../../../ URLs do not.
    expect(moved.report.findings.map((f: { code: string; path: string }) => f.path)).toEqual([
      "identity.schemas[0].url",
      "identity.schemas[2].url",
      expect.stringMatching(/body$/),
      expect.stringMatching(/body$/),
      expect.stringMatching(/body$/),
      expect.stringMatching(/body$/),
      expect.stringMatching(/body$/),
      expect.stringMatching(/body$/),
    ]);
  });

  it("suggests the key meant by a typo", async () => {
    const { report } = await doctor(...args("unknown-key"));
    expect(report.findings[0]).toMatchObject({
      path: "selfservice.flows.registration.after.password.hooks[0].config.response.prase",
      fix: 'did you mean "parse"?',
    });
  });

  it("--schemas checks every schema in a folder; the shipped ones are clean", async () => {
    const { code, report } = await doctor(join(CASES, "ok", "kratos.yml"), "--schemas", join(ROOT, "schemas"));
    expect(report.findings).toEqual([]);
    expect(code).toBe(0);
    const broken = await doctor(join(CASES, "ok", "kratos.yml"), "--schemas", join(CASES, "schema-sms-needs-tel"));
    expect(broken.report.findings.map((f: { code: string }) => f.code)).toEqual(["schema-sms-needs-tel"]);
  });

  it("the shipped kratos.yml has no errors; its development key is one warning", async () => {
    const { code, report } = await doctor(join(ROOT, "kratos", "kratos.yml"));
    expect(code).toBe(0);
    expect(report.findings.map((f: { code: string }) => f.code)).toEqual(["auth-dev-key"]);
    expect(report.findings[0].message).toMatch(/\(6 web_hooks use it\)$/);
  });

  it("reads anchors and aliases as Kratos does: a broken anchored hook is reported where it is used", async () => {
    const kratos = editedKratosYml((yml) => {
      // biome-ignore lint/suspicious/noExplicitAny: a kratos.yml edit.
      const flows = (yml as any).selfservice.flows;
      flows.registration.after.code.hooks = [{ hook: "session" }, flows.registration.after.code.hooks[0]];
    });
    const { report } = await doctor(kratos, "--cwd", join(ROOT, "kratos"));
    expect(report.findings.map((f: { code: string }) => f.code)).toContain("session-not-last");
  });

  it("prints one line per finding with file:line, severity, path, message and fix", async () => {
    const run = await cliProcess(["doctor", ...args("global-after-parse")]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^test\/fixtures\/doctor\/global-after-parse\/kratos\.yml:\d+ {2}error {2}selfservice\.flows\.registration\.after\.hooks\[0\] {2}a parse\/can_interrupt web_hook in the global registration\.after\.hooks never runs/m,
    );
    expect(run.stdout).toMatch(/^ {4}fix: move it to selfservice\.flows\.registration\.after\.<method>\.hooks/m);
    expect(run.stdout).toMatch(/^1 error\(s\), 0 warning\(s\) in test\/fixtures\/doctor\/global-after-parse\/kratos\.yml/m);
  });

  it("behind the gateway, base_url must be the gateway's public URL (--gateway), and must not be GATEWAY_KRATOS_URL", async () => {
    const shipped = join(ROOT, "kratos", "kratos.yml");
    const codes = async (...argv: string[]) => (await doctor(shipped, ...argv)).report.findings.map((f: { code: string }) => f.code);
    // The shipped base_url is http://127.0.0.1:4433/, Kratos's own port.
    expect(await codes("--gateway", "http://127.0.0.1:4433")).not.toContain("gateway-base-url");
    expect(await codes("--gateway", "http://127.0.0.1:4455/")).toContain("gateway-base-url");
    const withUpstream = (upstream: string) => cliProcess(["doctor", shipped, "--json"], { env: { GATEWAY_KRATOS_URL: upstream } });
    const own = JSON.parse((await withUpstream("http://127.0.0.1:4433")).stdout);
    expect(own.findings.find((f: { code: string }) => f.code === "gateway-base-url")?.message).toContain(
      "Kratos's own address (GATEWAY_KRATOS_URL)",
    );
    const elsewhere = JSON.parse((await withUpstream("http://kratos.internal:4433")).stdout);
    expect(elsewhere.findings.map((f: { code: string }) => f.code)).not.toContain("gateway-base-url");
    expect((await cli("doctor", shipped, "--gateway", "not a url")).code).toBe(2);
  });

  it("usage errors exit 2", async () => {
    expect((await cli("doctor", "/nonexistent/kratos.yml")).code).toBe(2);
    expect((await cli("doctor", "a.yml", "b.yml")).code).toBe(2);
    expect((await cli("doctor", "--schemas", "/nonexistent")).stderr).toMatch(/cannot read --schemas \/nonexistent \(ENOENT\)/);
  });
});
