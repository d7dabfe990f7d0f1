import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { formatMessage } from "../../src/cli/courier-sink.js";
import { DEV_PORTS, devBanner, kratosDsn } from "../../src/cli/dev.js";
import { toJudgedKratos } from "../../src/cli/kratos-version.js";
import { cli, cliProcess } from "../support/cli.js";

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
    for (const flag of ["--hooks-port", "--gateway-port", "--public-port", "--admin-port", "--sink-port", "--dsn", "KRATOS_BIN"]) {
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
    expect(run.stderr).toMatch(/cannot run go .*Go 1\.23\+ and gcc .*KRATOS_BIN/);
  });

  it("KRATOS_BIN that is not an executable: exit 1, naming it", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "kratos-hooks-dev-test-")), "kratos");
    writeFileSync(file, "not a program");
    const run = await cliProcess(["dev", ...(await freePortFlags())], { env: { KRATOS_BIN: file } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`KRATOS_BIN=${file} is not an executable file`);
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
