import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TESTED_KRATOS_VERSIONS, type TestedKratosVersion } from "../../src/cli/kratos-binary.js";
import { kratosAuthorization } from "../../src/cli/kratos-headers.js";
import { DEV_API_KEY } from "../../src/config/env.js";
import {
  doctorCaseArgs as args,
  DOCTOR_CASES as CASES,
  cli,
  cliProcess,
  DOCTOR_FIXTURE_KEYS,
  editedKratosYml,
  ROOT,
} from "../support/cli.js";
import { KRATOS_AUTH_CASES } from "../support/kratos-auth-cases.js";

const names = readdirSync(CASES).sort();

process.env.HOOKS_API_KEYS = DOCTOR_FIXTURE_KEYS;

async function doctor(...argv: string[]) {
  const run = await cli("doctor", ...argv, "--json");
  expect(run.stderr).toBe("");
  return { code: run.code, report: JSON.parse(run.stdout) };
}

type Effect = "refuses_to_start" | "fails_at_runtime" | "warning";
/** One finding: its code (default: the case's name without -in-json), effect, path, and a text its fix contains. */
type Expected = { code?: string; effect: Effect; path: string; fix: string };

/**
 * What the doctor finds in each case of test/fixtures/doctor/<finding>/ judged for Kratos v1.3.1:
 * the one finding's effect (what Kratos v1.3.1 does; test/e2e/doctor-agreement.e2e.test.ts checks
 * it against the real binary), its path, and a text the fix must contain: the key to change.
 */
const EXPECTED: Record<string, Expected> = {
  "auth-dev-key": { effect: "warning", path: "selfservice.flows.login.after.hooks[0].config.auth.config.value", fix: "auth.config.value" },
  "auth-key-unknown": {
    effect: "fails_at_runtime",
    path: "selfservice.flows.login.after.hooks[0].config.auth.config.value",
    fix: "set auth.config.value to Bearer <one of HOOKS_API_KEYS>",
  },
  "auth-mismatch": { effect: "fails_at_runtime", path: "selfservice.flows.login.after.hooks[0].config.auth", fix: "in: header" },
  "auth-missing": { effect: "fails_at_runtime", path: "selfservice.flows.login.after.hooks[0].config.auth", fix: "auth:\n  type: api_key" },
  "body-missing": {
    effect: "fails_at_runtime",
    path: "selfservice.flows.login.after.hooks[0].config",
    fix: "body: file://./hooks/login-after.jsonnet",
  },
  "body-unreadable": { effect: "fails_at_runtime", path: "selfservice.flows.login.after.hooks[0].config.body", fix: "body URL" },
  "content-type": { effect: "fails_at_runtime", path: "selfservice.flows.login.after.hooks[0].config.headers", fix: "Content-Type" },
  "default-schema-unknown": { effect: "fails_at_runtime", path: "identity.default_schema_id", fix: "identity.default_schema_id" },
  "duplicate-schema-id": { effect: "fails_at_runtime", path: "identity.schemas[3].id", fix: "its own id" },
  "gateway-base-url": { effect: "warning", path: "serve.public.base_url", fix: "serve.public.base_url" },
  // v1.3.1 ignores clients.web_hook.header_allowlist: the fix is in our config (or a newer Kratos).
  "header-not-allowlisted": { effect: "warning", path: "normalizePhone.regionHeader", fix: "transient_payload.phone_region" },
  "global-after-parse": {
    effect: "fails_at_runtime",
    path: "selfservice.flows.registration.after.hooks[0]",
    fix: "selfservice.flows.registration.after.<method>.hooks (password, webauthn, passkey, oidc, code)",
  },
  "hook-missing-config": {
    effect: "refuses_to_start",
    path: "selfservice.flows.registration.before.hooks[0]",
    fix: "remove this - hook: b2b_sso",
  },
  "hook-hidden": {
    effect: "fails_at_runtime",
    path: "selfservice.flows.login.after.password.hooks",
    fix: "add the same web_hook to selfservice.flows.login.after.password.hooks",
  },
  "hooks-config-invalid": { effect: "fails_at_runtime", path: "(top level)", fix: "config check" },
  "identity-missing": { effect: "refuses_to_start", path: "identity", fix: "identity.schemas" },
  "identity-not-object": { effect: "refuses_to_start", path: "identity", fix: "default_schema_id: default\n  schemas:" },
  // kratos.json: the fix is JSON, built from the file's own top-level default_schema_id and schemas.
  "identity-not-object-in-json": {
    effect: "refuses_to_start",
    path: "identity",
    fix: '"identity": {\n  "default_schema_id": "default",\n  "schemas": [\n    { "id": "default", "url": "file://../../../../schemas/default.schema.json" },',
  },
  "method-not-wired": {
    effect: "fails_at_runtime",
    path: "selfservice.flows.registration.after.code.hooks",
    fix: "selfservice.flows.registration.after.code.hooks",
  },
  "parse-missing": {
    effect: "fails_at_runtime",
    path: "selfservice.flows.settings.after.profile.hooks[0].config",
    fix: "response:\n  parse: true",
  },
  "route-misplaced": { effect: "fails_at_runtime", path: "selfservice.flows.login.before.hooks[0].config.url", fix: "/hooks/login-before" },
  "route-schema-undeclared": { effect: "fails_at_runtime", path: "routeSchema.rules[0].schema", fix: "- id: mobile to identity.schemas" },
  "schema-code-via": {
    effect: "fails_at_runtime",
    path: "#/properties/traits/properties/email/ory.sh~1kratos/credentials/code",
    fix: '"via": "email" or "via": "sms" to credentials.code',
  },
  "schema-drift": { effect: "warning", path: "identitySchemas.email", fix: "identitySchemas.email" },
  "schema-entry-incomplete": { effect: "refuses_to_start", path: "identity.schemas[2]", fix: "url: file://" },
  "schema-extension-type": {
    effect: "refuses_to_start",
    path: "#/properties/traits/properties/email/ory.sh~1kratos",
    fix: '"ory.sh/kratos" as an object',
  },
  "schema-extension-unknown-key": {
    effect: "refuses_to_start",
    path: "#/properties/traits/properties/email/ory.sh~1kratos/verfication",
    fix: 'replace "verfication" with one of: credentials, verification, recovery',
  },
  "schema-no-properties": { effect: "refuses_to_start", path: "#", fix: 'nest the traits: {"$schema"' },
  "schema-no-trait-properties": { effect: "refuses_to_start", path: "#/properties/traits", fix: '"properties": {"email"' },
  "schema-no-traits": { effect: "refuses_to_start", path: "#/properties", fix: '"traits": {"type": "object"' },
  "schema-not-json": { effect: "refuses_to_start", path: "#", fix: "JSON syntax" },
  "schema-recovery-via": {
    effect: "refuses_to_start",
    path: "#/properties/traits/properties/phone/ory.sh~1kratos/recovery/via",
    fix: '"via": "email"',
  },
  "schema-remote": { effect: "warning", path: "identity.schemas[1].url", fix: "--schemas" },
  "schema-sms-needs-tel": { effect: "fails_at_runtime", path: "#/properties/traits/properties/phone/format", fix: '"format": "tel"' },
  "schema-traits-type": { effect: "refuses_to_start", path: "#/properties/traits/type", fix: '"type": "object"' },
  "schema-unreadable": { effect: "refuses_to_start", path: "identity.schemas[1].url", fix: "--cwd" },
  "schema-verification-format": {
    effect: "refuses_to_start",
    path: "#/properties/traits/properties/email/format",
    fix: '"format" to one of: email, tel',
  },
  "schema-verification-via": {
    effect: "refuses_to_start",
    path: "#/properties/traits/properties/email/ory.sh~1kratos/verification/via",
    fix: '"via": "email" or "sms"',
  },
  "schemas-missing": { effect: "refuses_to_start", path: "identity.schemas", fix: "identity.schemas as - id: <id>" },
  "session-not-last": {
    effect: "warning",
    path: "selfservice.flows.registration.after.password.hooks[1]",
    fix: "- hook: session",
  },
  "unknown-key": {
    effect: "refuses_to_start",
    path: "selfservice.flows.registration.after.password.hooks[0].config.response.prase",
    fix: 'did you mean "parse"?',
  },
  "unknown-key-webhook-id": {
    code: "unknown-key",
    effect: "refuses_to_start",
    path: "selfservice.flows.login.after.hooks[0].config.id",
    fix: 'remove "id", or run Kratos v25.4.0 or later',
  },
  "unknown-route": {
    effect: "fails_at_runtime",
    path: "selfservice.flows.login.before.hooks[0].config.url",
    fix: "/hooks/<id>, id one of: registration-before, registration-after, login-before, login-after, settings-after",
  },
  "webhook-ignore": {
    effect: "fails_at_runtime",
    path: "selfservice.flows.login.after.hooks[0].config.response",
    fix: "response.parse: true",
  },
  "webhook-ignore-and-parse": {
    effect: "refuses_to_start",
    path: "selfservice.flows.login.after.hooks[0].config.response",
    fix: "remove response.ignore",
  },
  "webhook-missing-config": {
    effect: "refuses_to_start",
    path: "selfservice.flows.login.before.hooks[0]",
    fix: "add config with url, method",
  },
  "webhook-missing-method": { effect: "refuses_to_start", path: "selfservice.flows.login.before.hooks[0].config", fix: "method: POST" },
  "webhook-missing-url": { effect: "refuses_to_start", path: "selfservice.flows.login.before.hooks[0].config", fix: "url: " },
};

/**
 * Where Kratos v26.2.0 differs from v1.3.1 (EXPECTED): its one finding, or null for none. The same
 * per-release table as test/e2e/doctor-agreement.e2e.test.ts, which starts both releases.
 */
const ON_V26: Record<string, Expected | null> = {
  // sms recovery is valid from v25.4: the schema is clean, so it is compared with our copy, which differs.
  "schema-recovery-via": { code: "schema-drift", effect: "warning", path: "identitySchemas.email", fix: "identitySchemas.email" },
  "unknown-key-webhook-id": null,
  // v25.4+ reads the list, which replaces its default: the fix is in kratos.yml.
  "header-not-allowlisted": {
    effect: "warning",
    path: "clients.web_hook.header_allowlist",
    fix: "add Cf-Ipcountry to clients.web_hook.header_allowlist",
  },
};

function expectedOn(name: string, version: TestedKratosVersion): Expected | null {
  const expected = version === "v26.2.0" && name in ON_V26 ? ON_V26[name] : EXPECTED[name];
  if (expected === undefined) throw new Error(`no expectation for ${name}`);
  return expected;
}

describe("doctor: one broken kratos.yml or schema per finding (test/fixtures/doctor/<finding>/)", () => {
  it.each(TESTED_KRATOS_VERSIONS)("the base case is clean on %s", async (version) => {
    const { code, report } = await doctor(...args("ok"), "--kratos-version", version);
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ errors: 0, warnings: 0, exitCode: 0 });
    expect(code).toBe(0);
  });

  it("every case has its expectation, and every expectation its case", () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(names.filter((n) => n !== "ok"));
    for (const name of Object.keys(ON_V26)) expect(names).toContain(name);
  });

  it("without --kratos-version or --admin-url, judges for v1.3.1 and says so", async () => {
    const { report } = await doctor(...args("schema-recovery-via"));
    expect(report.kratosVersion).toEqual({
      version: "v1.3.1",
      source: "default",
      from: "the default; --kratos-version or --admin-url judges for another release",
      judgedAs: "v1.3.1",
    });
    expect(report.findings.map((f: { code: string }) => f.code)).toEqual(["schema-recovery-via"]);
    const text = await cli("doctor", ...args("ok"));
    expect(text.stdout.split("\n")[0]).toBe(
      "judged for Kratos v1.3.1 (the default; --kratos-version or --admin-url judges for another release)",
    );
  });

  const cases = names.filter((n) => n !== "ok").flatMap((name) => TESTED_KRATOS_VERSIONS.map((version) => [name, version] as const));
  it.each(cases)("%s on %s", async (name, version) => {
    const { code, report } = await doctor(...args(name), "--kratos-version", version);
    expect(report.kratosVersion).toMatchObject({ version, source: "flag", from: "--kratos-version", judgedAs: version });
    const expected = expectedOn(name, version);
    if (expected === null) {
      expect(report.findings).toEqual([]);
      expect(code).toBe(0);
      return;
    }
    // A case named <finding>-in-json is that finding in a kratos.json.
    expect(report.findings.map((f: { code: string }) => f.code)).toEqual([expected.code ?? name.replace(/-in-json$/, "")]);
    const [finding] = report.findings;
    expect({ effect: finding.effect, path: finding.path }).toEqual({ effect: expected.effect, path: expected.path });
    expect(finding.fix).toContain(expected.fix);
    // severity and the exit code follow the effect: only warnings pass.
    const warning = expected.effect === "warning";
    expect(finding.severity).toBe(warning ? "warning" : "error");
    expect(report).toMatchObject({ errors: warning ? 0 : 1, warnings: warning ? 1 : 0 });
    expect(code).toBe(warning ? 0 : 1);
    // The finding names the file it is in; a kratos.yml finding also names its line (a
    // missing section has none).
    expect(finding.file).toMatch(/^test\/fixtures\/doctor\/|hooks-config|kratos-hooks config/);
    if (/kratos\.(yml|json)$/.test(finding.file) && name !== "identity-missing") {
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

  it("answers a kratos.json in JSON, from the file's own schema ids and URLs, and says where the top-level keys belong", async () => {
    const { report } = await doctor(...args("identity-not-object-in-json"));
    const [finding] = report.findings;
    expect(finding).toMatchObject({ file: "test/fixtures/doctor/identity-not-object-in-json/kratos.json", line: 4 });
    expect(finding.message).toContain("the top-level default_schema_id and schemas belong under identity");
    expect(finding.fix).toMatch(/^move the top-level default_schema_id and schemas under identity/);
    // The snippet after the first line is JSON: pasted in place of "identity": "…", it is the
    // file's own schema list under identity.
    const snippet = finding.fix.slice(finding.fix.indexOf("\n") + 1);
    const fixture = JSON.parse(readFileSync(join(CASES, "identity-not-object-in-json", "kratos.json"), "utf8"));
    expect(JSON.parse(`{${snippet}}`)).toEqual({
      identity: { default_schema_id: fixture.default_schema_id, schemas: fixture.schemas },
    });
  });

  it("in YAML, builds the identity section from the user's values; a custom default id and schema list stay theirs", async () => {
    const kratos = editedKratosYml((yml) => {
      yml.identity = "file://./my.schema.json";
    });
    const plain = (await doctor(kratos)).report.findings.find((f: { code: string }) => f.code === "identity-not-object");
    expect(plain.fix).toBe(
      "write identity as below, replacing the string given now:\nidentity:\n  default_schema_id: default\n  schemas:\n    - id: default\n      url: file://./my.schema.json",
    );
    const moved = editedKratosYml((yml) => {
      delete yml.identity;
      yml.default_schema_id = "customer";
      yml.schemas = [{ id: "customer", url: "file://./customer.json" }];
    });
    const missing = (await doctor(moved)).report.findings.find((f: { code: string }) => f.code === "identity-missing");
    expect(missing.message).toContain("the top-level default_schema_id and schemas belong under identity");
    expect(missing.fix).toBe(
      "move the top-level default_schema_id and schemas under identity (Kratos reads them only there):\nidentity:\n  default_schema_id: customer\n  schemas:\n    - id: customer\n      url: file://./customer.json",
    );
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

  it("--schemas reports a .json entry it cannot read as a finding, not a crash", async () => {
    const dir = mkdtempSync(join(tmpdir(), "doctor-schemas-"));
    mkdirSync(join(dir, "folder.json"));
    const { code, report } = await doctor(join(CASES, "ok", "kratos.yml"), "--schemas", dir);
    expect(report.findings.map((f: { code: string; effect: string }) => [f.code, f.effect])).toEqual([
      ["schema-unreadable", "refuses_to_start"],
    ]);
    expect(code).toBe(1);
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
    const run = await cliProcess(["doctor", ...args("global-after-parse")], { env: { HOOKS_API_KEYS: DOCTOR_FIXTURE_KEYS } });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^test\/fixtures\/doctor\/global-after-parse\/kratos\.yml:\d+ {2}error {2}selfservice\.flows\.registration\.after\.hooks\[0\] {2}a parse\/can_interrupt web_hook in the global registration\.after\.hooks never runs/m,
    );
    expect(run.stdout).toMatch(/^ {4}fix: move it to selfservice\.flows\.registration\.after\.<method>\.hooks/m);
    expect(run.stdout).toMatch(/^1 error\(s\), 0 warning\(s\) in test\/fixtures\/doctor\/global-after-parse\/kratos\.yml/m);
  });

  it("behind the gateway, the shield must know Kratos's UI URLs, and clients apart behind a proxy (docs/shield.md)", async () => {
    const shipped = join(ROOT, "kratos", "kratos.yml");
    const shieldFindings = async (config: unknown) => {
      const dir = mkdtempSync(join(tmpdir(), "doctor-shield-"));
      const file = join(dir, "hooks.json");
      writeFileSync(file, JSON.stringify(config));
      const { report } = await doctor(shipped, "--gateway", "http://127.0.0.1:4433", "--config", file);
      return (report.findings as { code: string; path: string; fix: string; severity: string }[]).filter((f) =>
        f.code.startsWith("shield-"),
      );
    };
    const none = await shieldFindings({});
    expect(none.map((f) => [f.code, f.path, f.severity])).toEqual([
      ["shield-per-client", "gateway.trustForwardedHeaders", "warning"],
      ["shield-ui-url", "selfservice.flows.login.ui_url", "warning"],
      ["shield-ui-url", "selfservice.flows.registration.ui_url", "warning"],
      ["shield-ui-url", "selfservice.flows.settings.ui_url", "warning"],
      ["shield-ui-url", "selfservice.flows.recovery.ui_url", "warning"],
    ]);
    expect(none[1]?.fix).toBe('set gateway.shield.uiUrls.login to "http://127.0.0.1:3000/login" in the kratos-hooks config');
    const uiUrls = {
      login: "http://127.0.0.1:3000/login",
      registration: "http://127.0.0.1:3000/registration",
      settings: "http://127.0.0.1:3000/settings",
      recovery: "http://127.0.0.1:3000/other",
    };
    const wired = await shieldFindings({ gateway: { trustForwardedHeaders: true, shield: { uiUrls } } });
    expect(wired.map((f) => f.path)).toEqual(["selfservice.flows.recovery.ui_url"]);
    expect(await shieldFindings({ gateway: { shield: { enabled: false } } })).toEqual([]);
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

describe("doctor: the request headers the hooks read must reach them (header-not-allowlisted)", () => {
  const KRATOS_DIR = join(ROOT, "kratos");
  const SHIPPED = join(KRATOS_DIR, "kratos.yml");
  const REGION = { normalizePhone: { regionHeader: "Cf-Ipcountry" } };
  type HeaderFinding = { code: string; effect: Effect; path: string; file: string; line?: number; message: string; fix: string };

  function configFile(config: object): string {
    const file = join(mkdtempSync(join(tmpdir(), "doctor-headers-")), "hooks-config.json");
    writeFileSync(file, JSON.stringify(config));
    return file;
  }
  /** The shipped kratos.yml with clients.web_hook.header_allowlist set to `list`, or without the key. */
  function withAllowlist(list: string[] | undefined): string {
    return editedKratosYml((yml) => {
      if (list === undefined) delete yml.clients;
      else yml.clients = { web_hook: { header_allowlist: list } };
    });
  }
  async function headerFindings(kratos: string, config: object, version: string): Promise<HeaderFinding[]> {
    const { report } = await doctor(kratos, "--cwd", KRATOS_DIR, "--config", configFile(config), "--kratos-version", version);
    return report.findings.filter((f: HeaderFinding) => f.code === "header-not-allowlisted");
  }

  it("the shipped kratos.yml lists Cf-Ipcountry: it reaches the hooks on v26.2.0; v1.3.1 ignores the list", async () => {
    expect(await headerFindings(SHIPPED, REGION, "v26.2.0")).toEqual([]);
    const [old, ...more] = await headerFindings(SHIPPED, REGION, "v1.3.1");
    expect(more).toEqual([]);
    expect(old).toMatchObject({
      effect: "warning",
      path: "normalizePhone.regionHeader",
      file: expect.stringMatching(/hooks-config\.json$/),
    });
    expect(old?.message).toContain(
      "Kratos before v25.4 passes web_hooks only its 17 fixed request headers and ignores clients.web_hook.header_allowlist",
    );
  });

  it("names are compared as Kratos compares them (Go's canonical header key)", async () => {
    expect(await headerFindings(withAllowlist(["cf-ipcountry"]), { normalizePhone: { regionHeader: "CF-IPCOUNTRY" } }, "v26.2.0")).toEqual(
      [],
    );
    const [finding] = await headerFindings(withAllowlist(["Accept"]), { normalizePhone: { regionHeader: "cf-ipcountry" } }, "v26.2.0");
    expect(finding?.message).toMatch(/^the hooks read the request header Cf-Ipcountry \(normalizePhone\.regionHeader\)/);
  });

  it("without the key, v25.4+ passes its 17 defaults: the fix writes them out with the header", async () => {
    const findings = await headerFindings(withAllowlist(undefined), REGION, "v26.2.0");
    expect(findings).toEqual([
      expect.objectContaining({
        effect: "warning",
        path: "clients.web_hook.header_allowlist",
        message: expect.stringContaining("which is not in clients.web_hook.header_allowlist (not set: Kratos's 17 default names)"),
        fix: "set clients.web_hook.header_allowlist to Kratos's defaults plus Cf-Ipcountry (the list replaces the defaults): [Accept, Accept-Encoding, Accept-Language, Content-Length, Content-Type, Origin, Priority, Referer, Sec-Ch-Ua, Sec-Ch-Ua-Mobile, Sec-Ch-Ua-Platform, Sec-Fetch-Dest, Sec-Fetch-Mode, Sec-Fetch-Site, Sec-Fetch-User, True-Client-Ip, User-Agent, Cf-Ipcountry]",
      }),
    ]);
    expect(findings[0]?.line).toBeUndefined();
  });

  it("a configured list replaces the default: User-Agent rules lose their header on v26.2.0, never on v1.3.1", async () => {
    const rules = { denyRules: { request: { denyUserAgents: ["BadBot"] } } };
    for (const list of [["Cf-Ipcountry"], []]) {
      const kratos = withAllowlist(list);
      expect(await headerFindings(kratos, rules, "v26.2.0")).toEqual([
        expect.objectContaining({
          effect: "warning",
          path: "clients.web_hook.header_allowlist",
          message: expect.stringMatching(
            /^the hooks read the request header User-Agent \(denyRules\.request\.denyUserAgents\), .*\(the list replaces Kratos's default\).*every client passes them/,
          ),
          fix: "add User-Agent to clients.web_hook.header_allowlist",
          line: expect.any(Number),
        }),
      ]);
      expect(await headerFindings(kratos, rules, "v1.3.1")).toEqual([]);
    }
  });

  it("a required header that never arrives refuses every flow: fails_at_runtime, exit 1, on both releases", async () => {
    const rules = { denyRules: { request: { requiredHeaders: ["X-Client-Id"] } } };
    for (const [version, path] of [
      ["v1.3.1", "denyRules.request.requiredHeaders[0]"],
      ["v26.2.0", "clients.web_hook.header_allowlist"],
    ] as const) {
      const run = await cli("doctor", SHIPPED, "--cwd", KRATOS_DIR, "--config", configFile(rules), "--kratos-version", version, "--json");
      const findings = JSON.parse(run.stdout).findings.filter((f: HeaderFinding) => f.code === "header-not-allowlisted");
      expect(findings).toEqual([expect.objectContaining({ effect: "fails_at_runtime", severity: "error", path })]);
      expect(findings[0].message).toContain("every before-hook refuses the request (missing_header)");
      expect(run.code).toBe(1);
    }
  });

  it("only what a wired hook reads, and only while its policy is on", async () => {
    expect(await headerFindings(SHIPPED, { normalizePhone: { enabled: false, regionHeader: "Cf-Ipcountry" } }, "v1.3.1")).toEqual([]);
    const noPhoneHooks = editedKratosYml((yml) => {
      // biome-ignore lint/suspicious/noExplicitAny: a kratos.yml edit.
      const flows = (yml as any).selfservice.flows;
      flows.registration.after = {};
      flows.settings.after = {};
    });
    expect(await headerFindings(noPhoneHooks, REGION, "v1.3.1")).toEqual([]);
    const required = { denyRules: { request: { requiredHeaders: ["X-Client-Id"] } } };
    expect(
      await headerFindings(
        SHIPPED,
        { denyRules: { ...required.denyRules, request: { ...required.denyRules.request, enabled: false } } },
        "v1.3.1",
      ),
    ).toEqual([]);
    const noBeforeHooks = editedKratosYml((yml) => {
      // biome-ignore lint/suspicious/noExplicitAny: a kratos.yml edit.
      const flows = (yml as any).selfservice.flows;
      delete flows.registration.before;
      delete flows.login.before;
    });
    expect(await headerFindings(noBeforeHooks, required, "v1.3.1")).toEqual([]);
  });
});

/** Every web_hook of `config` (a parsed kratos.yml), wherever it is wired. */
function webHooks(node: unknown, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(node)) for (const item of node) webHooks(item, out);
  else if (node !== null && typeof node === "object") {
    const entry = node as Record<string, unknown>;
    if (entry.hook === "web_hook" && entry.config !== null && typeof entry.config === "object")
      out.push(entry.config as Record<string, unknown>);
    for (const value of Object.values(entry)) webHooks(value, out);
  }
  return out;
}

describe("doctor: judges a web_hook's auth as the server does (src/http/auth.ts presentedKey)", () => {
  // The same cases test/http/kratos-auth.test.ts sends to the server: what it accepts is not flagged.
  it.each(KRATOS_AUTH_CASES)("$name: accepted $accepted", async ({ auth, authorization, accepted, finding }) => {
    expect(kratosAuthorization(auth)).toBe(authorization);
    const kratos = editedKratosYml((yml) => {
      for (const config of webHooks(yml)) config.auth = auth;
    });
    const { report } = await doctor(kratos, "--cwd", join(ROOT, "kratos"));
    const codes = report.findings.map((f: { code: string }) => f.code);
    if (accepted) expect(codes).toEqual([]);
    else expect(new Set(codes)).toEqual(new Set([finding ?? "auth-key-unknown"]));
  });

  it("a wrong basic_auth password is reported at the password", async () => {
    const kratos = editedKratosYml((yml) => {
      for (const config of webHooks(yml))
        config.auth = { type: "basic_auth", config: { user: "kratos", password: "wrong-key-0123456789abcdef" } };
    });
    const { report } = await doctor(kratos, "--cwd", join(ROOT, "kratos"));
    expect(report.findings[0]).toMatchObject({
      code: "auth-key-unknown",
      path: expect.stringMatching(/\.config\.auth\.config\.password$/),
    });
  });

  it("the development key in any form the server reads it is the one auth-dev-key warning", async () => {
    for (const auth of [
      { type: "api_key", config: { name: "Authorization", value: `bearer ${DEV_API_KEY}`, in: "header" } },
      { type: "basic_auth", config: { user: "kratos", password: DEV_API_KEY } },
    ]) {
      const kratos = editedKratosYml((yml) => {
        for (const config of webHooks(yml)) config.auth = auth;
      });
      const { report } = await doctor(kratos, "--cwd", join(ROOT, "kratos"));
      expect(report.findings.map((f: { code: string }) => f.code)).toEqual(["auth-dev-key"]);
    }
  });
});
