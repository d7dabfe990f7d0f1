import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOOK_IDS } from "../../src/core/hooks.js";
import { MESSAGES } from "../../src/core/messages.js";
import { base64Template, cli, cliProcess, editedKratosYml, ROOT } from "../support/cli.js";
import { EXAMPLES, exampleNames, outcomeOf } from "../support/examples.js";

// biome-ignore lint/suspicious/noExplicitAny: walking kratos.yml in tests.
type Yml = any;
const registrationAfter = (yml: Yml) => yml.selfservice.flows.registration.after.password.hooks[0].config;

async function tryJSON(...argv: string[]) {
  const run = await cli("try", ...argv, "--json");
  expect(run.stderr).toBe("");
  return { code: run.code, report: JSON.parse(run.stdout) };
}

describe("try --example: every shipped example, under the default config", () => {
  // What the default config does with each example, by Kratos's rules: test/support/examples.ts.
  it("every example file has a row in test/support/examples.ts and every row a file", () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(exampleNames());
  });

  it.each(exampleNames())("%s", async (name) => {
    const want = outcomeOf(name);
    const [hook, scenario] = name.split(".") as [string, string];
    const { code, report } = await tryJSON(hook, "--example", scenario);
    expect(report.verdict.kind).toBe(want.kind);
    expect(code).toBe(want.kind === "continue" || want.kind === "save" ? 0 : 1);
    expect(report.exitCode).toBe(code);
    expect(report.template.file).toBe(`kratos/hooks/${hook}.jsonnet`);
    expect((report.verdict.changes ?? []).map((c: { path: string; after: unknown }) => [c.path, c.after])).toEqual(
      want.kind === "save" ? want.changes : [],
    );
    expect((report.verdict.messages ?? []).map((m: { node: string; id: number }) => [m.node, m.id])).toEqual(
      want.kind === "stop" ? want.messages : [],
    );
  });

  it("uses --config: the blocked-account example is refused once the rule is configured", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "kratos-hooks-cfg-")), "config.json");
    writeFileSync(file, JSON.stringify({ denyRules: { login: { metadataPublic: [{ key: "blocked", equals: true }] } } }));
    const { code, report } = await tryJSON("login-after", "--example", "blocked-account", "--config", file);
    expect(code).toBe(1);
    expect(report.verdict.kind).toBe("stop");
    expect(report.verdict.messages).toEqual([expect.objectContaining({ node: null, id: 4100201, type: "error" })]);
    expect(report.handler).toBe(`in-process, config: HOOKS_CONFIG_FILE (${file})`);
  });
});

describe("try: the template is rendered as Kratos renders it", () => {
  it("sends only what the shipped template selects from the ctx", async () => {
    const { report } = await tryJSON("registration-after", "--example", "password-phone-national");
    expect(Object.keys(report.request.body).sort()).toEqual(["flow", "identity", "request_headers", "request_method", "request_url"]);
    expect(report.request.body.identity).toEqual({ schema_id: "default", traits: { phone: "0176 12345678" }, metadata_public: null });
  });

  it('error "cancel": Kratos sends nothing and continues', async () => {
    const kratos = editedKratosYml((yml) => {
      registrationAfter(yml).body = base64Template(
        `function(ctx) if std.endsWith(std.asciiLower(ctx.identity.traits.email), "@example.com") then error "cancel" else ctx`,
      );
    });
    const { code, report } = await tryJSON("registration-after", "--example", "password-email", "--kratos", kratos);
    expect(code).toBe(0);
    expect(report.verdict.kind).toBe("continue");
    expect(report.verdict.headline).toMatch(/no request is sent/);
    expect(report.request).toBeNull();
    expect(report.answer).toBeNull();
  });

  it("a template error fails the flow, and import is unavailable as in Kratos", async () => {
    const broken = editedKratosYml((yml) => {
      registrationAfter(yml).body = base64Template("function(ctx) ctx.identity.nope");
    });
    const failed = await tryJSON("registration-after", "--example", "password-email", "--kratos", broken);
    expect(failed.code).toBe(1);
    expect(failed.report.verdict.kind).toBe("fail");
    expect(failed.report.verdict.headline).toMatch(/field does not exist: nope/);
    const importing = editedKratosYml((yml) => {
      registrationAfter(yml).body = base64Template('local x = import "/etc/hostname"; function(ctx) ctx');
    });
    const imported = await tryJSON("registration-after", "--example", "password-email", "--kratos", importing);
    expect(imported.report.verdict.kind).toBe("fail");
    expect(imported.report.verdict.headline).toMatch(/import is not available/);
  });

  it("relative file:// bodies resolve from --cwd (Kratos's working directory)", async () => {
    const kratos = editedKratosYml(() => {});
    const wrong = await cli("try", "registration-after", "--example", "password-email", "--kratos", kratos);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/cannot be read \(ENOENT\).*working directory assumed/);
    const right = await cli("try", "registration-after", "--example", "password-email", "--kratos", kratos, "--cwd", `${ROOT}/kratos`);
    expect(right.code).toBe(0);
  });
});

describe("try: an identity schema it cannot read", () => {
  it("says so in a note for each: a save to it is not re-validated", async () => {
    const broken = join(mkdtempSync(join(tmpdir(), "kratos-hooks-schema-")), "broken.schema.json");
    writeFileSync(broken, "{ not json");
    const kratos = editedKratosYml((yml: Yml) => {
      yml.identity.schemas.push({ id: "missing", url: "file://./missing.schema.json" }, { id: "broken", url: `file://${broken}` });
    });
    const { code, report } = await tryJSON(
      "registration-after",
      "--example",
      "password-email",
      "--kratos",
      kratos,
      "--cwd",
      `${ROOT}/kratos`,
    );
    expect(code).toBe(0);
    const notes: string[] = report.verdict.notes;
    expect(notes.filter((n) => n.startsWith("identity schema "))).toHaveLength(2);
    expect(notes).toContainEqual(
      expect.stringMatching(
        /^identity schema missing \(file:\/\/\.\/missing\.schema\.json\): .*missing\.schema\.json cannot be read \(ENOENT\); a save to it is not re-validated$/,
      ),
    );
    const brokenNote = notes.find((n) => n.startsWith(`identity schema broken (file://${broken}): not JSON (`));
    expect(brokenNote).toMatch(/\); a save to it is not re-validated$/);
  });

  it("the shipped kratos.yml's schemas all read: no such note", async () => {
    const { report } = await tryJSON("registration-after", "--example", "password-email");
    expect(report.verdict.notes.join("\n")).not.toMatch(/^identity schema /m);
  });
});

describe("try: a hand-written ctx without identity.id", () => {
  // The shipped login-after and settings-after templates read ctx.identity.id, which Kratos always sends.
  it.each([
    ["login-after", "password", "00000000-0000-4000-8000-000000000001"],
    ["settings-after", "profile-unchanged", "00000000-0000-4000-8000-000000000001"],
    ["registration-after", "password-email", "00000000-0000-0000-0000-000000000000"],
  ])("%s: filled with a placeholder, said in a note, and the verdict is the example's", async (hook, scenario, id) => {
    const ctx = JSON.parse(readFileSync(join(ROOT, "kratos/examples", `${hook}.${scenario}.json`), "utf8"));
    delete ctx.identity.id;
    const file = join(mkdtempSync(join(tmpdir(), "kratos-hooks-ctx-")), "ctx.json");
    writeFileSync(file, JSON.stringify(ctx));
    const { code, report } = await tryJSON(hook, file);
    const want = outcomeOf(`${hook}.${scenario}`);
    expect(report.verdict.kind, report.verdict.reason).toBe(want.kind);
    expect(code).toBe(0);
    expect(report.verdict.notes[0]).toMatch(/lacks fields Kratos always sends; try filled them in: identity\.id \(/);
    expect(report.verdict.notes[0]).toContain(`identity.id ("${id}")`);
    if (hook !== "registration-after") expect(report.request.body.identity.id).toBe(id);
  });
});

describe("try --url: a running handler, called with kratos.yml's auth", () => {
  let server: Server;
  let base: string;
  const seen: { path: string; authorization: string | undefined; body: string }[] = [];
  // A test-only handler that misbehaves in the ways Kratos punishes, chosen by the email's local part.
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        seen.push({ path: req.url ?? "", authorization: req.headers.authorization, body });
        const email = JSON.parse(body).identity.traits.email as string;
        const mode = email.split("@")[0];
        if (mode === "empty200") res.writeHead(200).end();
        else if (mode === "messages503")
          res
            .writeHead(503, { "content-type": "application/json" })
            .end(
              JSON.stringify({ messages: [{ instance_ptr: "#/traits/email", messages: [{ id: 9000001, text: "no", type: "error" }] }] }),
            );
        else res.writeHead(204).end();
      });
    });
    server.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  async function withEmail(email: string) {
    const ctx = JSON.parse(readFileSync(`${ROOT}/kratos/examples/registration-after.password-email.json`, "utf8"));
    ctx.identity.traits.email = email;
    const file = join(mkdtempSync(join(tmpdir(), "kratos-hooks-ctx-")), "ctx.json");
    writeFileSync(file, JSON.stringify(ctx));
    return tryJSON("registration-after", file, "--url", base);
  }

  it("200 with an empty body: Kratos fails the flow", async () => {
    const { code, report } = await withEmail("empty200@example.com");
    expect(code).toBe(1);
    expect(report.verdict.kind).toBe("fail");
    expect(report.verdict.headline).toMatch(/200 with an empty body/);
    expect(seen.at(-1)).toMatchObject({ path: "/hooks/registration-after", authorization: "Bearer dev-only-insecure-key" });
  });

  it("5xx with messages: retried, then a generic error; the messages are never shown", async () => {
    const { code, report } = await withEmail("messages503@example.com");
    expect(code).toBe(1);
    expect(report.verdict.kind).toBe("fail");
    expect(report.verdict.notes).toEqual(["the messages in this 503 body are never shown: send them with a 4xx such as 422"]);
  });

  it("204: continues", async () => {
    expect((await withEmail("fine@example.com")).report.verdict.kind).toBe("continue");
  });

  it("a handler that refuses kratos.yml's credentials: FAIL, and the note says so", async () => {
    const refusing = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(401, { "content-type": "application/json" }).end('{"error":{"code":"unauthorized"}}'));
    });
    refusing.listen(0, "127.0.0.1");
    await new Promise((resolve) => refusing.once("listening", resolve));
    try {
      const run = await tryJSON(
        "registration-after",
        "--example",
        "password-email",
        "--url",
        `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`,
      );
      expect(run.code).toBe(1);
      expect(run.report.verdict.kind).toBe("fail");
      expect(run.report.verdict.notes.join("\n")).toMatch(/refused the credentials kratos.yml sends/);
    } finally {
      refusing.close();
    }
  });

  it("a handler that is down: Kratos gives up after 3 attempts", async () => {
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await new Promise((resolve) => closed.once("listening", resolve));
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const run = await tryJSON("registration-after", "--example", "password-email", "--url", `http://127.0.0.1:${port}`);
    expect(run.code).toBe(1);
    expect(run.report.verdict.headline).toMatch(/unreachable \(ECONNREFUSED\): connection refused/);
    expect(run.report.verdict.reason).toContain("giving up after 3 attempt(s)");
    expect(run.report.verdict.reason).not.toMatch(/429|5xx/);
  });
});

describe("try: usage errors exit 2 and say what to change", () => {
  it.each([
    [["try"], /name a hook/],
    [["try", "signup"], /unknown hook "signup"; the hooks are: registration-before/],
    [["try", "registration-after"], /give a ctx file or --example <scenario> \(for registration-after: code-sms-v26, /],
    [["try", "registration-after", "--example", "nope"], /no example "nope" for registration-after; the examples are: code-sms-v26/],
    [["try", "registration-after", "/nonexistent/ctx.json"], /cannot read the ctx file \/nonexistent\/ctx.json \(ENOENT\)/],
    [["try", "registration-after", "package.json"], /has no "identity" object/],
    [["try", "registration-after", "x.json", "--example", "password-email"], /either a ctx file or --example/],
    [["try", "registration-after", "--example", "password-email", "--url", "ftp://x"], /--url must be an http\(s\) URL/],
    [["try", "registration-after", "--example", "password-email", "--bogus"], /Unknown option '--bogus'/],
    [
      ["try", "registration-after", "--example", "password-email", "--config", "/nonexistent.json"],
      /HOOKS_CONFIG_FILE: expected a readable JSON file, found ENOENT/,
    ],
    [["frobnicate"], /unknown command "frobnicate"/],
  ])("%j", async (argv, message) => {
    const run = await cli(...(argv as string[]));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(message);
  });
});

describe("the kratos-hooks command (a real process)", () => {
  it.each([
    [
      ["try", "registration-after", "--example", "password-phone-national"],
      0,
      /^SAVE {2}Kratos saves the new identity with these changes$/m,
    ],
    [
      ["try", "registration-after", "--example", "phone-invalid"],
      1,
      /^STOP {2}Kratos stops the flow and shows: .* under traits\.phone \(id 4100001\)/m,
    ],
    [["try", "nope", "x.json"], 2, /^$/],
    [["doctor"], 0, /no errors|0 error\(s\)/],
    [["config", "check"], 0, /^valid: the defaults$/m],
  ])("%j exits %i", async (argv, code, stdout) => {
    const run = await cliProcess(argv as string[]);
    expect(run.code).toBe(code);
    expect(run.stdout).toMatch(stdout);
  });

  it.each([["--help"], ["try", "--help"], ["doctor", "--help"], ["config", "check", "--help"], ["config", "--help"]])(
    "%j prints help",
    async (...argv) => {
      const run = await cliProcess(argv);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^kratos-hooks/);
      expect(run.stdout).toMatch(/Exit codes:/);
    },
  );

  it("without a command, prints the help to stderr and exits 2", async () => {
    const run = await cliProcess([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Usage:/);
    for (const hook of HOOK_IDS) expect((await cli("try", "--help")).stdout).toContain(hook);
  });
});

describe("the README's pasted output is what the commands print", () => {
  // The pasted output lives in docs/cli.md, the page of the commands.
  const readme = readFileSync(join(ROOT, "docs/cli.md"), "utf8");
  /** The lines after `$ <command>` in docs/cli.md, up to the next `$` line or the end of the block. */
  function pasted(command: string): string {
    const start = readme.indexOf(`$ ${command}\n`);
    expect(start, command).toBeGreaterThan(0);
    const lines = readme.slice(start + command.length + 3).split("\n");
    const end = lines.findIndex((line) => line.startsWith("$ ") || line === "```");
    return `${lines.slice(0, end).join("\n").trimEnd()}\n`;
  }
  // The page writes the clone's folder as `<checkout>`; each checkout prints its own path.
  const asInReadme = (text: string) => text.replaceAll(ROOT, "<checkout>/");

  it.each([
    [
      "npx kratos-hooks try registration-after --example password-phone-national",
      ["try", "registration-after", "--example", "password-phone-national"],
    ],
    [
      "HOOKS_API_KEYS=test-key-0123456789abcdef npx kratos-hooks doctor test/fixtures/doctor/global-after-parse/kratos.yml",
      ["doctor", "test/fixtures/doctor/global-after-parse/kratos.yml"],
    ],
    [
      "HOOKS_API_KEYS=test-key-0123456789abcdef npx kratos-hooks doctor test/fixtures/doctor/schema-no-properties/kratos.yml",
      ["doctor", "test/fixtures/doctor/schema-no-properties/kratos.yml"],
    ],
    ["npx kratos-hooks config check", ["config", "check"]],
  ])("%s", async (command, argv) => {
    // The doctor fixtures send test-key-0123456789abcdef, so the pasted commands set it.
    const key = /^HOOKS_API_KEYS=(\S+) /.exec(command)?.[1];
    const run = await cliProcess(argv, key === undefined ? {} : { env: { HOOKS_API_KEYS: key } });
    expect(asInReadme(run.stdout)).toBe(pasted(command));
  });
});

describe("without the optional Jsonnet engine", () => {
  it.each([
    ["missing", undefined],
    // Installed without its install script (npm 11's allowScripts): the addon's loader throws.
    ["installed but not built", "throw new Error('Could not locate the bindings file. Tried: build/node-jsonnet.node');\n"],
  ])("try exits 2 and says how to install it when it is %s; doctor and config check still work", async (_, unbuilt) => {
    // A copy of the package whose node_modules lacks only a working @hanazuki/node-jsonnet, as
    // after a failed optional build.
    const dir = mkdtempSync(join(tmpdir(), "kratos-hooks-nojsonnet-"));
    for (const entry of ["package.json", "dist", "kratos", "schemas"]) symlinkSync(join(ROOT, entry), join(dir, entry));
    mkdirSync(join(dir, "node_modules", "@hanazuki"), { recursive: true });
    for (const entry of readdirSync(join(ROOT, "node_modules"))) {
      if (entry !== "@hanazuki") symlinkSync(join(ROOT, "node_modules", entry), join(dir, "node_modules", entry));
    }
    if (unbuilt !== undefined) {
      const addon = join(dir, "node_modules", "@hanazuki", "node-jsonnet");
      mkdirSync(addon);
      writeFileSync(join(addon, "package.json"), '{"name":"@hanazuki/node-jsonnet","main":"index.js"}');
      writeFileSync(join(addon, "index.js"), unbuilt);
    }
    // Resolve modules from the copy, not from where its symlinks point.
    const bin = ["--preserve-symlinks", "--preserve-symlinks-main", "dist/src/cli/bin.js"];
    const run = (argv: string[]) => {
      const result = spawnSync(process.execPath, [...bin, ...argv], { cwd: dir, encoding: "utf8", env: { PATH: process.env.PATH ?? "" } });
      return { code: result.status, stdout: result.stdout, stderr: result.stderr };
    };
    const tried = run(["try", "registration-after", "--example", "password-email"]);
    expect(tried.code, tried.stderr).toBe(2);
    expect(tried.stderr).toMatch(
      /the Jsonnet engine @hanazuki\/node-jsonnet is not installed or not built .* run `npm install @hanazuki\/node-jsonnet`/,
    );
    expect(tried.stderr).not.toMatch(/\n\s+at /);
    expect(run(["doctor"]).code).toBe(0);
    expect(run(["config", "check"]).code).toBe(0);
  });
});

describe("try: the verdict of the Kratos release it judges for", () => {
  const example = (name: string) => JSON.parse(readFileSync(join(ROOT, "kratos/examples", `${name}.json`), "utf8"));
  function ctxFile(ctx: unknown): string {
    const file = join(mkdtempSync(join(tmpdir(), "kratos-hooks-try-version-")), "ctx.json");
    writeFileSync(file, JSON.stringify(ctx));
    return file;
  }
  /** A settings change to a national number, its region sent in the form's transient_payload. */
  function settingsWithRegion(): string {
    const ctx = example("settings-after.profile-phone-changed");
    ctx.identity.traits.phone = "0176 1234 5678";
    ctx.flow.transient_payload = { phone_region: "DE" };
    return ctxFile(ctx);
  }
  const DROPPED = /does not pass flow\.transient_payload to settings hooks.*: try dropped it from the ctx, as Kratos would/;
  const changes = (report: { verdict: { changes?: { path: string; after: unknown }[] } }) =>
    (report.verdict.changes ?? []).map((c) => [c.path, c.after]);
  const messages = (report: { verdict: { messages?: { node: string; id: number }[] } }) =>
    (report.verdict.messages ?? []).map((m) => [m.node, m.id]);

  it("without --kratos-version or --admin-url: v1.3.1, said in the JSON report and in the text", async () => {
    const { report } = await tryJSON("registration-after", "--example", "password-email");
    expect(report.kratosVersion).toEqual({
      version: "v1.3.1",
      source: "default",
      from: "the default; --kratos-version or --admin-url judges for another release",
      judgedAs: "v1.3.1",
    });
    const text = await cli("try", "registration-after", "--example", "password-email", "--kratos-version", "v25.4.0");
    expect(text.stdout).toContain(
      "\nkratos    v25.4.0 (--kratos-version); v25.4.0 is not a tested release (v1.3.1 and v26.2.0); v25.4.0 and later share v26.2.0's feature set",
    );
  });

  it("settings-after: v26.2.0 does not pass flow.transient_payload, so try drops it and says so; v1.3.1 passes it", async () => {
    const file = settingsWithRegion();
    const old = (await tryJSON("settings-after", file, "--kratos-version", "v1.3.1")).report;
    expect(old.verdict.kind).toBe("save");
    expect(changes(old)).toEqual([["traits.phone", "+4917612345678"]]);
    expect(old.request.body.flow.transient_payload).toEqual({ phone_region: "DE" });
    expect(old.verdict.notes.join("\n")).not.toMatch(DROPPED);

    const run = await tryJSON("settings-after", file, "--kratos-version", "v26.2.0");
    expect(run.code).toBe(1);
    expect(run.report.verdict.kind).toBe("stop");
    expect(messages(run.report)).toEqual([["traits.phone", MESSAGES.PHONE_NEEDS_INTERNATIONAL_FORMAT.id]]);
    expect(run.report.request.body.flow).not.toHaveProperty("transient_payload");
    expect(run.report.verdict.notes).toContain(
      "Kratos v26.2.0 does not pass flow.transient_payload to settings hooks: try dropped it from the ctx, as Kratos would",
    );

    // v25.4 was not measured: judged as v26.2.0, and the note says so.
    const v25 = (await tryJSON("settings-after", file, "--kratos-version", "v25.4.0")).report;
    expect(v25.verdict.kind).toBe("stop");
    expect(v25.verdict.notes).toContain(
      "Kratos v25.4.0 does not pass flow.transient_payload to settings hooks (measured on v26.2.0; v25.4.0 is judged as it): try dropped it from the ctx, as Kratos would",
    );
  });

  it("registration-after keeps flow.transient_payload on v26.2.0", async () => {
    const { report } = await tryJSON("registration-after", "--example", "password-phone-national", "--kratos-version", "v26.2.0");
    expect(report.verdict.kind).toBe("save");
    expect(report.request.body.flow.transient_payload).toEqual({ phone_region: "DE" });
    expect(report.verdict.notes.join("\n")).not.toMatch(DROPPED);
  });

  it("request headers the release does not pass to web_hooks are dropped from the ctx, with a note", async () => {
    const ctx = example("registration-after.phone-no-region");
    ctx.request_headers["cf-ipcountry"] = ["DE"];
    const file = ctxFile(ctx);
    const config = join(mkdtempSync(join(tmpdir(), "kratos-hooks-try-version-")), "config.json");
    writeFileSync(config, JSON.stringify({ normalizePhone: { regionHeader: "Cf-Ipcountry" } }));

    // v1.3.1 passes 17 fixed names, whatever kratos.yml lists.
    const old = (await tryJSON("registration-after", file, "--config", config, "--kratos-version", "v1.3.1")).report;
    expect(old.verdict.kind).toBe("stop");
    expect(old.request.body.request_headers).not.toHaveProperty("cf-ipcountry");
    expect(old.verdict.notes).toContain(
      "Kratos v1.3.1 passes web_hooks only its 17 fixed request headers (before v25.4): try dropped cf-ipcountry from request_headers, as Kratos would",
    );
    // v26.2.0 passes the shipped kratos.yml's allowlist, which has Cf-Ipcountry.
    const now = (await tryJSON("registration-after", file, "--config", config, "--kratos-version", "v26.2.0")).report;
    expect(now.verdict.kind).toBe("save");
    expect(changes(now)).toEqual([
      ["schema_id", "phone"],
      ["traits.phone", "+49301234567"],
    ]);
    expect(now.verdict.notes.join("\n")).not.toMatch(/try dropped/);
    // Without the key, v26.2.0 passes its 17 defaults.
    const kratos = editedKratosYml((yml) => {
      delete yml.clients;
    });
    const argv = [
      "registration-after",
      file,
      "--config",
      config,
      "--kratos",
      kratos,
      "--cwd",
      join(ROOT, "kratos"),
      "--kratos-version",
      "v26.2.0",
    ];
    const without = (await tryJSON(...argv)).report;
    expect(without.verdict.kind).toBe("stop");
    expect(without.verdict.notes).toContain(
      "Kratos v26.2.0 passes web_hooks only the headers in clients.web_hook.header_allowlist (not set: its 17 defaults): try dropped cf-ipcountry from request_headers, as Kratos would",
    );
  });
});
