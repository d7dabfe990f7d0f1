import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { maskedKeyId as doctorKeyId } from "../../src/cli/doctor-auth.js";
import { EXIT, EXIT_CODES_HELP } from "../../src/cli/usage.js";
import { maskedKeyId as logKeyId } from "../../src/http/auth.js";
import { cli, editedKratosYml, ROOT } from "../support/cli.js";

// biome-ignore lint/suspicious/noExplicitAny: a parsed kratos.yml
type Yml = any;

// The CLI's contract across commands: one exit-code table, the wrong-key checks of `try` and
// `doctor`, and how `try` completes a hand-written ctx (docs/cli.md).

const SHIPPED = join(ROOT, "kratos", "kratos.yml");
const EXAMPLE = join(ROOT, "kratos", "examples", "registration-after.password-phone-national.json");

function tempFile(name: string, content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "kratos-hooks-contract-")), name);
  writeFileSync(file, content);
  return file;
}

async function tryJSON(...argv: string[]) {
  const run = await cli("try", ...argv, "--json");
  return { ...run, report: run.stdout === "" ? undefined : JSON.parse(run.stdout) };
}

const savedKeys = process.env.HOOKS_API_KEYS;
afterEach(() => {
  if (savedKeys === undefined) delete process.env.HOOKS_API_KEYS;
  else process.env.HOOKS_API_KEYS = savedKeys;
});

describe("one exit-code table for every command", () => {
  it("the table is 0 success, 1 a problem found, 2 usage error", () => {
    expect(EXIT).toEqual({ ok: 0, problems: 1, usage: 2 });
  });

  it.each([[["--help"]], [["try", "--help"]], [["doctor", "--help"]], [["config", "check", "--help"]], [["backfill", "--help"]]])(
    "%j prints the same table",
    async (argv) => {
      const run = await cli(...argv);
      expect(run.code).toBe(EXIT.ok);
      expect(run.stdout).toContain(EXIT_CODES_HELP);
    },
  );

  it.each(["toString", "constructor", "__proto__", "no-such-command"])("help %s prints the main help and exits 0", async (topic) => {
    const main = await cli("--help");
    const run = await cli("help", topic);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(main.stdout);
  });

  it("docs/cli.md shows the same table", () => {
    expect(readFileSync(join(ROOT, "docs/cli.md"), "utf8")).toContain(EXIT_CODES_HELP);
  });

  const badConfig = () => tempFile("bad.json", JSON.stringify({ normalizePhone: { defaultRegon: "DE" } }));
  const badKratos = join(ROOT, "test/fixtures/doctor/global-after-parse/kratos.yml");

  it.each([
    // try
    ["try: success", () => ["try", "registration-after", "--example", "password-phone-national"], EXIT.ok],
    ["try: Kratos stops the flow", () => ["try", "registration-after", "--example", "phone-invalid"], EXIT.problems],
    ["try: usage error", () => ["try", "registration-after", "--example", "password-phone-national", "--bogus"], EXIT.usage],
    // doctor
    ["doctor: success", () => ["doctor", SHIPPED], EXIT.ok],
    ["doctor: errors found", () => ["doctor", badKratos], EXIT.problems],
    ["doctor: usage error", () => ["doctor", "/nonexistent/kratos.yml"], EXIT.usage],
    // config check: an invalid config is a problem found (1), like the doctor's errors
    ["config check: valid", () => ["config", "check"], EXIT.ok],
    ["config check: invalid", () => ["config", "check", badConfig()], EXIT.problems],
    ["config check: usage error", () => ["config", "check", "a.json", "b.json"], EXIT.usage],
    ["config: usage error", () => ["config"], EXIT.usage],
    // backfill: its success and problem codes need an admin API (test/cli/backfill.test.ts)
    ["backfill: usage error", () => ["backfill"], EXIT.usage],
    ["no command: usage error", () => [], EXIT.usage],
  ])("%s exits %i", async (_name, argv, code) => {
    process.env.HOOKS_API_KEYS = "test-key-0123456789abcdef,dev-only-insecure-key";
    expect((await cli(...argv())).code).toBe(code);
  });
});

describe("try --example without a name lists the examples", () => {
  it.each([[["try", "registration-after", "--example"]], [["try", "registration-after", "--example", "--json"]]])("%j", async (argv) => {
    const run = await cli(...argv);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^examples for registration-after/);
    expect(run.stdout).toMatch(/^ {2}password-phone-national$/m);
  });

  it("--help says so", async () => {
    expect((await cli("try", "--help")).stdout).toContain(
      "--example [name]     a shipped ctx from kratos/examples (without a name: list them)",
    );
  });
});

describe("try: a wrong key is found in-process, as Kratos would meet it", () => {
  it("the shipped kratos.yml sends the development key; with other HOOKS_API_KEYS, FAIL and the note names the cause", async () => {
    process.env.HOOKS_API_KEYS = "another-key-0123456789abcdef";
    const run = await tryJSON("registration-after", "--example", "password-phone-national");
    expect(run.code).toBe(EXIT.problems);
    expect(run.report.answer.status).toBe(401);
    expect(run.report.verdict.kind).toBe("fail");
    const notes = run.report.verdict.notes.join("\n");
    expect(notes).toMatch(/the key this web_hook sends \(sha256:[0-9a-f]{8}…\) is none of the 1 key\(s\) in HOOKS_API_KEYS/);
    expect(notes).toContain("got no validation errors");
    expect(run.stdout).not.toContain("another-key-0123456789abcdef");
    expect(run.stdout).not.toContain("dev-only-insecure-key");
  });

  it("the same ctx with the key kratos.yml sends: SAVE", async () => {
    process.env.HOOKS_API_KEYS = "another-key-0123456789abcdef,dev-only-insecure-key";
    const run = await tryJSON("registration-after", "--example", "password-phone-national");
    expect(run.report.verdict.kind).toBe("save");
  });

  it('HOOKS_API_KEYS="Bearer …" is a usage error with the hint', async () => {
    process.env.HOOKS_API_KEYS = "Bearer another-key-0123456789abcdef";
    const run = await cli("try", "registration-after", "--example", "password-phone-national");
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain("drop the Bearer prefix");
  });
});

describe("doctor: which hooks would get 401", () => {
  it("with HOOKS_API_KEYS set to another key, every hook of the shipped kratos.yml is named", async () => {
    process.env.HOOKS_API_KEYS = "another-key-0123456789abcdef";
    const run = await cli("doctor", SHIPPED, "--json");
    expect(run.code).toBe(EXIT.problems);
    const unknown = JSON.parse(run.stdout).findings.filter((f: { code: string }) => f.code === "auth-key-unknown");
    expect(unknown.length).toBe(6);
    for (const f of unknown) {
      expect(f).toMatchObject({ effect: "fails_at_runtime", severity: "error" });
      expect(f.path).toMatch(/\.config\.auth\.config\.value$/);
      expect(f.message).toMatch(/kratos-hooks answers 401/);
    }
    expect(run.stdout).not.toContain("another-key-0123456789abcdef");
  });

  it("unset HOOKS_API_KEYS means the development key: a fixture sending another key gets 401", async () => {
    delete process.env.HOOKS_API_KEYS;
    const run = await cli("doctor", join(ROOT, "test/fixtures/doctor/ok/kratos.yml"), "--json");
    const unknown = JSON.parse(run.stdout).findings.filter((f: { code: string }) => f.code === "auth-key-unknown");
    expect(unknown.length).toBeGreaterThan(0);
    expect(unknown[0].message).toContain("the development key (HOOKS_API_KEYS is unset)");
  });

  it("basic_auth: its password is the key", async () => {
    delete process.env.HOOKS_API_KEYS;
    const yml = editedKratosYml((config) => {
      const hook = (config as Yml).selfservice.flows.registration.after.password.hooks[0].config;
      hook.auth = { type: "basic_auth", config: { user: "kratos", password: "another-key-0123456789abcdef" } };
    });
    const run = await cli("doctor", yml, "--json");
    const unknown = JSON.parse(run.stdout).findings.filter((f: { code: string }) => f.code === "auth-key-unknown");
    // The shipped code hooks alias the password hooks' config (a YAML anchor), so both are named.
    expect(unknown.map((f: { path: string }) => f.path)).toContain(
      "selfservice.flows.registration.after.password.hooks[0].config.auth.config.password",
    );
    expect(unknown).toHaveLength(2);
  });

  it('HOOKS_API_KEYS="Bearer …": a finding with the hint', async () => {
    process.env.HOOKS_API_KEYS = "Bearer another-key-0123456789abcdef";
    const run = await cli("doctor", SHIPPED, "--json");
    const found = JSON.parse(run.stdout).findings.find((f: { code: string }) => f.code === "api-keys-invalid");
    expect(found.message).toContain("drop the Bearer prefix");
    expect(run.stdout).not.toContain("another-key-0123456789abcdef");
  });
});

describe("try completes a hand-written ctx with what Kratos always sends", () => {
  const example = () => JSON.parse(readFileSync(EXAMPLE, "utf8")) as { identity: Record<string, unknown> } & Record<string, unknown>;

  it("without identity.metadata_public (Kratos sends null): filled, said so, and the verdict is the example's", async () => {
    const ctx = example();
    delete ctx.identity.metadata_public;
    delete ctx.request_method;
    const run = await tryJSON("registration-after", tempFile("ctx.json", JSON.stringify(ctx)));
    expect(run.report.verdict.kind).toBe("save");
    expect(run.report.verdict.notes[0]).toMatch(
      /lacks fields Kratos always sends; try filled them in: .*identity\.metadata_public \(null\)/,
    );
    expect(run.report.verdict.notes[0]).toContain('request_method ("POST")');
  });

  it("a complete ctx gets no such note", async () => {
    const run = await tryJSON("registration-after", EXAMPLE);
    expect(run.report.verdict.notes.join("\n")).not.toMatch(/filled them in|unwrapped/);
  });

  it('a ctx wrapped as {"ctx": …} is unwrapped, with a note', async () => {
    const run = await tryJSON("registration-after", tempFile("ctx.json", JSON.stringify({ ctx: example() })));
    expect(run.code).toBe(EXIT.ok);
    expect(run.report.verdict.kind).toBe("save");
    expect(run.report.verdict.notes[0]).toMatch(/wraps the ctx as \{"ctx": …\}; try unwrapped it/);
  });
});

describe("a key's id", () => {
  it("is the same in the service's 401 log line and in the doctor's finding, and holds no part of the key", async () => {
    for (const key of ["test-key-0123456789abcdef", "dev-only-insecure-key", "ünïcode-kéy"]) {
      const id = await logKeyId(key);
      expect(doctorKeyId(key)).toBe(id);
      expect(id).toMatch(/^sha256:[0-9a-f]{8}…$/);
    }
    expect(await logKeyId("a")).not.toBe(await logKeyId("b"));
  });
});
