import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatMessage } from "../../src/cli/courier-sink.js";
import { DEV_PORTS, devBanner, kratosDsn } from "../../src/cli/dev.js";
import { chooseDevKratosConfig, missingTsx, resolveTsx, toDevKratosConfig } from "../../src/cli/dev-entry.js";
import { EntryEvents } from "../../src/cli/dev-entry-events.js";
import { toJudgedKratos } from "../../src/cli/kratos-version.js";
import { PACKAGE_ROOT } from "../../src/cli/usage.js";
import { readNodeSettings } from "../../src/config/node-settings.js";
import { cli, cliProcess, ROOT } from "../support/cli.js";

// `kratos-hooks dev` end to end (Kratos, sign-up, login, Ctrl-C): test/e2e/dev.e2e.test.ts.

/** Five free loopback ports as `dev` flags. */
async function freePortFlags(): Promise<string[]> {
  const flags = ["--hooks-port", "--gateway-port", "--public-port", "--admin-port", "--sink-port"];
  const servers = flags.map(() => createServer().listen(0, "127.0.0.1"));
  await Promise.all(servers.map((s) => once(s, "listening")));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return flags.flatMap((flag, i) => [flag, String(ports[i])]);
}

describe("kratos-hooks dev", () => {
  it("--help names every port flag, --dsn and KRATOS_BIN", async () => {
    const run = await cli("dev", "--help");
    expect(run.code).toBe(0);
    for (const flag of [
      "--hooks-port",
      "--gateway-port",
      "--public-port",
      "--admin-port",
      "--sink-port",
      "--dsn",
      "KRATOS_BIN",
      "--entry <file>",
      "--config <kratos.yml>",
      "tsx watch",
    ]) {
      expect(run.stdout).toContain(flag);
    }
    expect((await cli("--help")).stdout).toContain("kratos-hooks dev");
  });

  it.each([
    [["--hooks-port", "http"], /--hooks-port must be a port number/],
    [["--sink-port", "70000"], /--sink-port must be a port number/],
    [["--gateway-port", "4433"], /--gateway-port and --public-port are both 4433/],
    [["extra"], /unexpected argument "extra"/],
    [["--nope"], /Unknown option '--nope'/],
  ])("usage error: %j", async (argv, message) => {
    const run = await cli("dev", ...argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it("a port in use: exit 1, naming the port and its flag", async () => {
    const flags = await freePortFlags();
    const busy = createServer().listen(Number(flags[3]), "127.0.0.1");
    await once(busy, "listening");
    try {
      const run = await cliProcess(["dev", ...flags]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`port ${flags[3]} on 127.0.0.1 is in use; stop what listens there or pick another with --gateway-port`);
    } finally {
      busy.close();
    }
  });

  it("no Kratos, no Go: exit 1, saying what building needs and naming KRATOS_BIN", async () => {
    const cache = mkdtempSync(join(tmpdir(), "kratos-hooks-dev-test-"));
    const run = await cliProcess(["dev", ...(await freePortFlags())], { env: { PATH: "/nonexistent", XDG_CACHE_HOME: cache } });
    expect(run.code).toBe(1);
    // Said as dev's own error (a KratosToolchainError), not an uncaught one with a stack.
    expect(run.stderr).toMatch(/^kratos-hooks dev: cannot run go .*Go 1\.23\+ and gcc .*KRATOS_BIN/m);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it("KRATOS_BIN that is not an executable: exit 1, naming it", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "kratos-hooks-dev-test-")), "kratos");
    writeFileSync(file, "not a program");
    const run = await cliProcess(["dev", ...(await freePortFlags())], { env: { KRATOS_BIN: file } });
    expect(run.code).toBe(1);
    // A KratosUnavailableError, classified by its type: dev's own message, no stack.
    expect(run.stderr).toContain(`kratos-hooks dev: KRATOS_BIN=${file} is not an executable file\n`);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it("--kratos-version with a KRATOS_BIN_V… that is not an executable: exit 1, naming it", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "kratos-hooks-dev-test-")), "kratos");
    writeFileSync(file, "not a program");
    const run = await cliProcess(["dev", ...(await freePortFlags()), "--kratos-version", "v26.2.0"], {
      env: { KRATOS_BIN_V26_2_0: file },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`kratos-hooks dev: KRATOS_BIN_V26_2_0=${file} is not an executable file\n`);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it("the hooks and the gateway start on the server's own default ports", () => {
    const server = readNodeSettings({ GATEWAY_KRATOS_URL: "http://127.0.0.1:4433" });
    expect(DEV_PORTS.hooks).toBe(server.port);
    expect(DEV_PORTS.gateway).toBe(server.gateway?.port);
  });

  it("--dsn: memory, a DSN as given, a file path as SQLite on disk", () => {
    expect(kratosDsn(undefined)).toBe("memory");
    expect(kratosDsn("memory")).toBe("memory");
    expect(kratosDsn("postgres://u:p@db/kratos")).toBe("postgres://u:p@db/kratos");
    expect(kratosDsn("kratos.db")).toBe(`sqlite://${resolve("kratos.db")}?_fk=true`);
  });

  it("the banner: the gateway first, and a registration and login through it", () => {
    const url = (port: number) => `http://127.0.0.1:${port}`;
    const urls = {
      hooks: url(DEV_PORTS.hooks),
      gateway: url(DEV_PORTS.gateway),
      public: url(DEV_PORTS.public),
      admin: url(DEV_PORTS.admin),
      sink: url(DEV_PORTS.sink),
    };
    const banner = devBanner(urls, "memory", "logs", toJudgedKratos("v26.2.0", "binary", "`kratos version` of /opt/kratos"));
    expect(banner).toContain("gateway        http://127.0.0.1:4455");
    expect(banner).toContain("\n  kratos         v26.2.0 (`kratos version` of /opt/kratos)\n");
    expect(banner).toContain("curl -s http://127.0.0.1:4455/self-service/registration/api");
    expect(banner).toContain('"http://127.0.0.1:4455/self-service/login?flow=$flow"');
    expect(banner).not.toContain(":4433/self-service");
    // v25.4+: phone-only sign-up by SMS code, the flow on the phone schema.
    expect(banner).toContain('flow=$(curl -s "http://127.0.0.1:4455/self-service/registration/api?identity_schema=phone" | jq -r .id)');
    expect(banner).toContain('"code":"<the code>","traits":{"phone":"0176 1234 5679"}');
    const older = devBanner(urls, "memory", "logs", toJudgedKratos("v1.3.1", "binary", "`kratos version` of /opt/kratos"));
    expect(older).toContain("Phone-only sign-up by SMS code needs Kratos v25.4+ (--kratos-version v26.2.0).");
    expect(older).not.toContain("identity_schema=phone");
  });

  it("prints each message with its code, highlighted on a terminal", () => {
    const sms = { channel: "sms", to: "+4917612345678", body: "Your login code is: 123456", template_type: "login_code_valid" } as const;
    expect(formatMessage(sms)).toBe("SMS to +4917612345678 (login_code_valid): 123456");
    expect(formatMessage(sms, true)).toBe("SMS to +4917612345678 (login_code_valid): \x1b[1;32m123456\x1b[0m");
    const email = { channel: "email", to: "a@example.org", subject: "Hi", body: "Hello\n  there", template_type: "x" } as const;
    expect(formatMessage(email)).toBe('Email to a@example.org "Hi" (x): Hello there');
  });
});

/** A fresh folder for a test's files. */
function folder(): string {
  return mkdtempSync(join(tmpdir(), "kratos-hooks-dev-test-"));
}

describe("kratos-hooks dev --entry and --config", () => {
  const dir = folder();
  writeFileSync(join(dir, "server.py"), "print('no')\n");
  mkdirSync(join(dir, "folder.ts"));
  writeFileSync(join(dir, "not-yaml.yml"), "serve: [unclosed\n");

  it.each([
    [["--entry", join(dir, "missing.ts")], /--entry .*missing\.ts: cannot read .*missing\.ts \(ENOENT\)/],
    [
      ["--entry", join(dir, "server.py")],
      /--entry .*server\.py: expected a TypeScript or JavaScript file \(\.ts, \.mts, \.cts, \.js, \.mjs, \.cjs\) that calls serve\(\)/,
    ],
    [["--entry", join(dir, "folder.ts")], /folder\.ts is not a file/],
    [["--entry"], /Option '--entry <value>' argument missing/],
    [["--config", join(dir, "missing.yml")], /--config .*missing\.yml: cannot read .*missing\.yml: ENOENT/],
    [["--config", join(dir, "not-yaml.yml")], /--config .*not-yaml\.yml: .*not-yaml\.yml is not valid YAML/],
    [["--config", dir], /--config .*: cannot read .*: EISDIR/],
  ])("usage error, before anything starts: %j", async (argv, message) => {
    const run = await cli("dev", ...argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it("the Kratos config: --config, else with --entry the project's ./kratos/kratos.yml, else the shipped one", () => {
    const shipped = join(PACKAGE_ROOT, "kratos", "kratos.yml");
    const bare = folder();
    const project = folder();
    mkdirSync(join(project, "kratos"));
    writeFileSync(join(project, "kratos", "kratos.yml"), "version: v1.3.1\n");
    writeFileSync(join(project, "mine.yml"), "version: v26.2.0\n");
    const pick = (args: { config?: string; entry?: string }, cwd: string) => {
      const { file, source } = chooseDevKratosConfig(args, cwd);
      return { file, source };
    };
    expect(pick({}, bare)).toEqual({ file: shipped, source: "shipped" });
    expect(pick({ entry: "src/server.ts" }, bare)).toEqual({ file: shipped, source: "shipped" });
    // Without --entry, dev runs the shipped service with the shipped config, wherever it runs.
    expect(pick({}, project)).toEqual({ file: shipped, source: "shipped" });
    expect(pick({ entry: "src/server.ts" }, project)).toEqual({ file: join(project, "kratos", "kratos.yml"), source: "project" });
    expect(pick({ entry: "src/server.ts", config: "mine.yml" }, project)).toEqual({ file: join(project, "mine.yml"), source: "--config" });
    expect(chooseDevKratosConfig({ config: "mine.yml" }, project).text).toBe("version: v26.2.0\n");
  });

  it("kratos.yml as dev runs it: only the shipped hooks' and sink's addresses move, and it says how many", () => {
    const text = [
      "url: http://127.0.0.1:8787/hooks/login-before",
      "url: http://127.0.0.1:8787/hooks/registration-after",
      "url: http://127.0.0.1:87870/elsewhere",
      "url: http://127.0.0.1:4480/sms",
      "base_url: http://127.0.0.1:4433/",
    ].join("\n");
    expect(toDevKratosConfig(text, { hooks: "http://127.0.0.1:8787", sink: "http://127.0.0.1:4480" })).toEqual({ text, changes: [] });
    expect(toDevKratosConfig(text, { hooks: "http://127.0.0.1:9001", sink: "http://127.0.0.1:4480" })).toEqual({
      text: text.replaceAll(":8787/", ":9001/"),
      changes: ["http://127.0.0.1:8787 → http://127.0.0.1:9001 (2×)"],
    });
    expect(toDevKratosConfig(text, { hooks: "http://127.0.0.1:9001", sink: "http://127.0.0.1:9002" }).changes).toEqual([
      "http://127.0.0.1:8787 → http://127.0.0.1:9001 (2×)",
      "http://127.0.0.1:4480 → http://127.0.0.1:9002 (1×)",
    ]);
  });

  it("tsx: the project's first (found from the entry's folder up), else the one beside kratos-hooks, else a message saying what to install", () => {
    const project = folder();
    const tsx = join(project, "node_modules", "tsx");
    mkdirSync(join(tsx, "dist"), { recursive: true });
    writeFileSync(join(tsx, "package.json"), JSON.stringify({ name: "tsx", version: "4.0.0-test", bin: "./dist/cli.mjs" }));
    writeFileSync(join(tsx, "dist", "cli.mjs"), "");
    mkdirSync(join(project, "src"));
    expect(resolveTsx(join(project, "src"), folder())).toEqual({
      cli: join(tsx, "dist", "cli.mjs"),
      version: "4.0.0-test",
      from: "project",
    });
    const ours = resolveTsx(folder(), ROOT);
    expect(ours).toMatchObject({ cli: join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), from: "kratos-hooks" });
    expect(resolveTsx(folder(), folder())).toBeUndefined();
    expect(missingTsx(join(project, "src", "server.ts"))).toMatch(/runs through tsx .*none was found .*npm install --save-dev tsx/);
  });

  it("the entry's starts and exits, as the probe appends them, a line being written left for later", () => {
    const file = join(folder(), "events.jsonl");
    const events = new EntryEvents(file);
    expect(events.since(0)).toEqual([]);
    writeFileSync(file, '{"event":"start","pid":1}\n{"event":"exit","code":1,"pid":1}\n{"event":"sta');
    expect(events.since(0)).toEqual([
      { event: "start", pid: 1 },
      { event: "exit", code: 1, pid: 1 },
    ]);
    expect(events.exited()).toEqual({ event: "exit", code: 1, pid: 1 });
    writeFileSync(file, '{"event":"start","pid":1}\n{"event":"exit","code":1,"pid":1}\n{"event":"start","pid":2}\n');
    expect(events.since(2)).toEqual([{ event: "start", pid: 2 }]);
    expect(events.exited()).toBeUndefined();
  });

  it("an entry that exits before it is ready: exit 1, its log tail, nothing left running", async () => {
    const project = folder();
    writeFileSync(join(project, "server.ts"), 'throw new Error("this entry fails on purpose");\n');
    // A stand-in that says which release it is: the entry starts (and fails) before Kratos would.
    const kratos = join(project, "kratos");
    writeFileSync(kratos, "#!/bin/sh\necho 'Version: v26.2.0'\n");
    chmodSync(kratos, 0o755);
    const run = await cliProcess(["dev", ...(await freePortFlags()), "--entry", "server.ts"], {
      cwd: project,
      env: { KRATOS_BIN: kratos },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /kratos-hooks dev: your service \(server\.ts\) exited with code 1 before it was ready .*its log \(.*entry\.log\):\n/,
    );
    expect(run.stderr).toContain("this entry fails on purpose");
    expect(run.stderr).toContain("kratos-hooks dev: stopped");
    // tsx watch outlives the entry; dev stops its process group.
    const running = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
    expect(running).not.toContain(join(project, "server.ts"));
  }, 30_000);

  it("the banner names the entry and the Kratos config, and what dev changed in it", () => {
    const url = (port: number) => `http://127.0.0.1:${port}`;
    const urls = { hooks: url(9001), gateway: url(4455), public: url(4433), admin: url(4434), sink: url(4480) };
    const kratos = toJudgedKratos("v26.2.0", "binary", "`kratos version` of /opt/kratos");
    const chosen = { file: join(process.cwd(), "kratos", "kratos.yml"), source: "project" as const, text: "" };
    const banner = devBanner(urls, "memory", "logs", kratos, {
      entry: { file: join(process.cwd(), "src", "server.ts"), tsx: { cli: "/x/cli.mjs", version: "4.23.15", from: "project" } },
      kratosConfig: { chosen, runs: "/tmp/dev/kratos.yml", changes: ["http://127.0.0.1:8787 → http://127.0.0.1:9001 (6×)"] },
    });
    expect(banner).toContain(
      "\n  your service   src/server.ts   (the hooks and the gateway; tsx 4.23.15 watch, your project's, reruns it on a change)\n",
    );
    expect(banner).toContain("\n  kratos config  kratos/kratos.yml   (your project's ./kratos/kratos.yml; Kratos runs in its folder)\n");
    expect(banner).toContain("dev moved http://127.0.0.1:8787 → http://127.0.0.1:9001 (6×) in a copy (/tmp/dev/kratos.yml)");
    expect(banner).toContain("jq '.identity | {traits, metadata_public}'");
    const asIs = devBanner(urls, "memory", "logs", kratos, { kratosConfig: { chosen, runs: chosen.file, changes: [] } });
    expect(asIs).toContain("used as is; dev sets only serve.public/admin (host, port, base_url) and the DSN");
    expect(asIs).not.toContain("your service");
    expect(asIs).toContain("(SMS and email are printed below)");
    // A kratos.yml whose courier sends elsewhere: said, since real messages go out.
    const ownCourier = devBanner(urls, "memory", "logs", kratos, { courierElsewhere: true });
    expect(ownCourier).toContain(
      "courier sink   http://127.0.0.1:4480   (unused: your kratos.yml's courier sends SMS and email elsewhere, for real)",
    );
  });
});
