import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse, stringify } from "yaml";
import type { DoctorReport } from "../../src/cli/doctor.js";
import { TESTED_KRATOS_VERSIONS, type TestedKratosVersion } from "../../src/cli/kratos-binary.js";
import { DOCTOR_CASES as CASES, cli, DOCTOR_FIXTURE_KEYS, doctorCaseArgs, doctorCaseConfigFile, ROOT } from "../support/cli.js";
import { freePort, type Running, startProcess, waitUntilReady } from "./processes.js";
import { kratosEnv } from "./stack.js";

// Every doctor finding with the effect `refuses_to_start` must be one the real Kratos release
// refuses to start with, and every kratos.yml that release refuses must get such a finding; a
// fixture whose findings are all `fails_at_runtime` or `warning` must start. Each fixture under
// test/fixtures/doctor/ (its kratos.yml, or kratos.json) is given to `kratos serve` (from its own
// folder, where its relative URLs point) and to the doctor, which is told the release the suite
// runs (`--kratos-version`, from `kratos version` of the binary). The suite runs on v1.3.1 and
// on v26.2.0 (test/e2e/run.ts).

const RELEASE = inject("kratosVersion") as TestedKratosVersion;
if (!(TESTED_KRATOS_VERSIONS as readonly string[]).includes(RELEASE)) {
  throw new Error(`Kratos ${RELEASE} is not a tested release (${TESTED_KRATOS_VERSIONS.join(", ")}): add its column to the tables below`);
}

/**
 * Where the tested releases differ, what each does with the fixture; every other fixture does the
 * same on both. (test/cli/doctor.test.ts holds the doctor's findings on each release.)
 */
const BY_RELEASE: Record<string, Record<TestedKratosVersion, "ready" | "refused">> = {
  // embedx/identity_extension.schema.json: recovery.via is "email" only on v1.3.1; "email" | "sms" from v25.4.
  "schema-recovery-via": { "v1.3.1": "refused", "v26.2.0": "ready" },
  // embedx/config.schema.json: a web_hook config has an `id` from v25.4 (v1.3.1: additionalProperties "id" not allowed).
  "unknown-key-webhook-id": { "v1.3.1": "refused", "v26.2.0": "ready" },
};

// The schema URL is on the internet, which this machine cannot reach, so Kratos exits; the
// doctor does not fetch and warns that it did not check.
const NEEDS_NETWORK = new Set(["schema-remote"]);

process.env.HOOKS_API_KEYS = DOCTOR_FIXTURE_KEYS;

async function doctor(...argv: string[]): Promise<{ code: number; report: DoctorReport }> {
  const run = await cli("doctor", ...argv, "--json");
  expect(run.stderr).toBe("");
  return { code: run.code, report: JSON.parse(run.stdout) as DoctorReport };
}

interface StartedKratos {
  kratos: Running;
  publicUrl: string;
  adminUrl: string;
}

/** Kratos with `config`, from `cwd`: running once its admin API answers, or refused when it exits first (with its output). */
async function startKratos(
  cwd: string,
  config: string,
): Promise<({ result: "ready" } & StartedKratos) | { result: "refused"; output: string }> {
  const [publicPort, adminPort] = [await freePort(), await freePort()];
  const kratos = startProcess("kratos", inject("kratosBin"), ["serve", "--config", config], { cwd, env: kratosEnv(publicPort, adminPort) });
  try {
    await waitUntilReady(kratos, `http://127.0.0.1:${adminPort}/admin/health/ready`, 20_000);
    return { result: "ready", kratos, publicUrl: `http://127.0.0.1:${publicPort}`, adminUrl: `http://127.0.0.1:${adminPort}` };
  } catch {
    const exited = kratos.child.exitCode !== null;
    await kratos.stop();
    const output = kratos.output();
    if (!exited) throw new Error(`Kratos neither started nor exited for ${config} in ${cwd}:\n${output}`);
    return { result: "refused", output };
  }
}

/** Starts Kratos on the fixture; "ready" when its admin API answers, "refused" when it exits first. */
async function kratosStarts(name: string): Promise<{ result: "ready" | "refused"; output: string }> {
  const started = await startKratos(join(CASES, name), doctorCaseConfigFile(name));
  if (started.result === "refused") return started;
  const output = started.kratos.output();
  await started.kratos.stop();
  return { result: "ready", output };
}

describe("doctor agrees with real Kratos, judging for its release, on which configs it refuses to start", () => {
  const names = readdirSync(CASES).sort();

  it("every fixture named in the per-release table exists", () => {
    for (const name of Object.keys(BY_RELEASE)) expect(names).toContain(name);
  });

  it.each(names)("%s", async (name) => {
    const [{ report }, kratos] = await Promise.all([doctor(...doctorCaseArgs(name), "--kratos-version", RELEASE), kratosStarts(name)]);
    expect(report.kratosVersion).toMatchObject({ version: RELEASE, source: "flag", judgedAs: RELEASE });
    const saysRefused = report.findings.some((f) => f.effect === "refuses_to_start");
    if (NEEDS_NETWORK.has(name)) {
      expect(kratos.result).toBe("refused");
      expect(report.findings.map((f) => f.code)).toEqual(["schema-remote"]);
      return;
    }
    const expected = BY_RELEASE[name]?.[RELEASE];
    if (expected !== undefined) expect(kratos.result, `Kratos ${RELEASE} on ${name}`).toBe(expected);
    expect({ kratos: kratos.result, doctor: saysRefused ? "refused" : "ready" }).toEqual({
      kratos: kratos.result,
      doctor: kratos.result,
    });
    if (kratos.result === "refused") expect(kratos.output).toMatch(/Unable to instantiate configuration|Error:/);
  });

  it("the shipped kratos.yml starts, and the doctor finds no error in it", async () => {
    const { code, report } = await doctor(join(ROOT, "kratos", "kratos.yml"), "--kratos-version", RELEASE);
    expect(code).toBe(0);
    expect(report.errors).toBe(0);
    const started = await startKratos(join(ROOT, "kratos"), "kratos.yml");
    expect(started.result, `Kratos ${RELEASE} on the shipped kratos.yml`).toBe("ready");
    if (started.result === "ready") await started.kratos.stop();
  });
});

describe("doctor --admin-url asks real Kratos for its release", () => {
  let kratos: StartedKratos;
  beforeAll(async () => {
    const started = await startKratos(join(CASES, "ok"), "kratos.yml");
    if (started.result === "refused") throw new Error(`Kratos refused the ok fixture:\n${started.output}`);
    kratos = started;
  });
  afterAll(async () => {
    await kratos?.kratos.stop();
  });

  it("GET <admin>/admin/version: the doctor judges for what it answers, and says where it learnt it", async () => {
    const { code, report } = await doctor(...doctorCaseArgs("schema-recovery-via"), "--admin-url", kratos.adminUrl);
    expect(report.kratosVersion).toEqual({
      version: RELEASE,
      source: "admin-api",
      from: `${kratos.adminUrl}/admin/version`,
      judgedAs: RELEASE,
    });
    expect({ code, findings: report.findings.map((f) => f.code) }).toEqual(
      RELEASE === "v1.3.1" ? { code: 1, findings: ["schema-recovery-via"] } : { code: 0, findings: ["schema-drift"] },
    );
    const text = await cli("doctor", ...doctorCaseArgs("ok"), "--admin-url", kratos.adminUrl);
    expect(text.stdout.split("\n")[0]).toBe(`judged for Kratos ${RELEASE} (${kratos.adminUrl}/admin/version)`);
  });

  it("the public API has no version endpoint: a usage error naming the admin API", async () => {
    const run = await cli("doctor", ...doctorCaseArgs("ok"), "--admin-url", kratos.publicUrl);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${kratos.publicUrl}/admin/version answered 404; --admin-url must be the admin API`);
  });

  it("the admin API's plain /version: a redirect to /admin/version on v1.3.1, the answer itself on v26.2.0", async () => {
    const res = await fetch(`${kratos.adminUrl}/version`, { redirect: "manual" });
    const expected = { "v1.3.1": { status: 307, location: "/admin/version" }, "v26.2.0": { status: 200, location: null } }[RELEASE];
    expect({ status: res.status, location: res.headers.get("location") }).toEqual(expected);
  });
});

describe("the request headers the doctor says never reach the hooks do not reach them on the real Kratos", () => {
  // Our config reads two headers: the region header, and User-Agent (a client rule). A stand-in
  // for the hooks records the ctx.request_headers of Kratos's login-before call.
  const OURS = { normalizePhone: { regionHeader: "Cf-Ipcountry" }, denyRules: { request: { denyUserAgents: ["BadBot"] } } };
  const DEFAULTS = parse(readFileSync(join(CASES, "header-not-allowlisted", "kratos.yml"), "utf8")).clients.web_hook
    .header_allowlist as string[];
  type Arrives = { "Cf-Ipcountry": boolean; "User-Agent": boolean };
  /** clients.web_hook.header_allowlist (undefined: not set), and which of the two headers each release passes. */
  const CASES_BY_LIST: [string, string[] | undefined, Record<TestedKratosVersion, Arrives>][] = [
    [
      "the 17 defaults",
      DEFAULTS,
      { "v1.3.1": { "Cf-Ipcountry": false, "User-Agent": true }, "v26.2.0": { "Cf-Ipcountry": false, "User-Agent": true } },
    ],
    [
      "the defaults and cf-ipcountry, in lower case",
      [...DEFAULTS, "cf-ipcountry"],
      { "v1.3.1": { "Cf-Ipcountry": false, "User-Agent": true }, "v26.2.0": { "Cf-Ipcountry": true, "User-Agent": true } },
    ],
    [
      "not set",
      undefined,
      { "v1.3.1": { "Cf-Ipcountry": false, "User-Agent": true }, "v26.2.0": { "Cf-Ipcountry": false, "User-Agent": true } },
    ],
    [
      "Cf-Ipcountry alone",
      ["Cf-Ipcountry"],
      { "v1.3.1": { "Cf-Ipcountry": false, "User-Agent": true }, "v26.2.0": { "Cf-Ipcountry": true, "User-Agent": false } },
    ],
    ["empty", [], { "v1.3.1": { "Cf-Ipcountry": false, "User-Agent": true }, "v26.2.0": { "Cf-Ipcountry": false, "User-Agent": false } }],
  ];
  const received: Record<string, unknown>[] = [];
  let hooksUrl: string;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      received.push((JSON.parse(body) as { request_headers: Record<string, unknown> }).request_headers);
      res.writeHead(204).end();
    });
  });
  beforeAll(async () => {
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    hooksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
  });

  it.each(CASES_BY_LIST)("header_allowlist %s", async (_, list, byRelease) => {
    const dir = mkdtempSync(join(tmpdir(), "kratos-hooks-headers-"));
    const text = readFileSync(join(CASES, "header-not-allowlisted", "kratos.yml"), "utf8").replaceAll("http://127.0.0.1:8787", hooksUrl);
    const edited = parse(text) as { clients?: unknown };
    if (list === undefined) delete edited.clients;
    else edited.clients = { web_hook: { header_allowlist: list } };
    const file = join(dir, "kratos.yml");
    writeFileSync(file, stringify(edited));
    const ours = join(dir, "hooks-config.json");
    writeFileSync(ours, JSON.stringify(OURS));

    // Relative URLs in the fixture resolve from its folder: Kratos runs there, and the doctor assumes it.
    const cwd = join(CASES, "header-not-allowlisted");
    const kratos = await startKratos(cwd, file);
    if (kratos.result === "refused")
      throw new Error(`Kratos ${RELEASE} refused header_allowlist ${JSON.stringify(list)}:\n${kratos.output}`);
    let headers: Record<string, unknown>;
    try {
      const before = received.length;
      const flow = await fetch(`${kratos.publicUrl}/self-service/login/api`, {
        headers: { Accept: "application/json", "Cf-Ipcountry": "DE", "User-Agent": "kratos-hooks-agreement" },
      });
      expect(flow.status).toBe(200);
      expect(received.length).toBe(before + 1);
      headers = received.at(-1) ?? {};
    } finally {
      await kratos.kratos.stop();
    }
    const names = new Set(Object.keys(headers).map((n) => n.toLowerCase()));
    const arrives: Arrives = { "Cf-Ipcountry": names.has("cf-ipcountry"), "User-Agent": names.has("user-agent") };
    expect(arrives).toEqual(byRelease[RELEASE]);

    const { report } = await doctor(file, "--cwd", cwd, "--config", ours, "--kratos-version", RELEASE);
    const missing = report.findings
      .filter((f) => f.code === "header-not-allowlisted")
      .map((f) => /^the hooks read the request header (\S+) /.exec(f.message)?.[1]);
    expect(missing.sort()).toEqual(
      Object.entries(arrives)
        .filter(([, arrived]) => !arrived)
        .map(([name]) => name)
        .sort(),
    );
  });
});
