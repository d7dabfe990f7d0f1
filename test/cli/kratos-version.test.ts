import { once } from "node:events";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchKratosVersion, judgedAtLeast, releaseAtLeast, toJudgedKratos } from "../../src/cli/kratos-version.js";
import { UsageError } from "../../src/cli/usage.js";
import { cli, cliProcess, ROOT } from "../support/cli.js";

// Which Kratos release `doctor`, `try` and `dev` judge for (src/cli/kratos-version.ts). The real
// admin APIs and binaries of v1.3.1 and v26.2.0 are asked in test/e2e/doctor-agreement.e2e.test.ts
// (--admin-url), test/e2e/try-agreement.e2e.test.ts and test/e2e/dev.e2e.test.ts (`kratos version`);
// here, the error paths.

describe("a release, judged as the tested release of its feature set", () => {
  it.each([
    ["v1.3.1", "v1.3.1", "v1.3.1", undefined],
    ["1.3.1", "v1.3.1", "v1.3.1", undefined],
    ["v26.2.0", "v26.2.0", "v26.2.0", undefined],
    [" 26.2.0 ", "v26.2.0", "v26.2.0", undefined],
    ["v1.3.0", "v1.3.0", "v1.3.1", /not a tested release .*before v25\.4\.0 share v1\.3\.1's feature set: judged as v1\.3\.1/],
    ["v1.2.0", "v1.2.0", "v1.3.1", /older than v1\.3\.1, the oldest tested release.*every request header.*judged as v1\.3\.1/],
    ["v25.4.0", "v25.4.0", "v26.2.0", /not a tested release.*v25\.4\.0 was not measured: judged as v26\.2\.0/],
    ["v26.1.3", "v26.1.3", "v26.2.0", /not a tested release/],
    ["v27.0.0", "v27.0.0", "v26.2.0", /newer than the newest tested release: judged as v26\.2\.0/],
    ["v26.2.0-pre.1", "v26.2.0-pre.1", "v26.2.0", /a pre-release of v26\.2\.0; judged as v26\.2\.0/],
    ["v25.3.9", "v25.3.9", "v1.3.1", /not a tested release/],
  ])("%s → %s judged as %s", (given, version, judgedAs, note) => {
    const judged = toJudgedKratos(given, "flag", "--kratos-version");
    expect({ version: judged.version, judgedAs: judged.judgedAs }).toEqual({ version, judgedAs });
    if (note === undefined) expect(judged.note).toBeUndefined();
    else expect(judged.note).toMatch(note);
  });

  it.each(["master", "latest", "26", "v26.2", "", "v1.3.1.4", "1.3.x"])("%j names no release: a usage error", (given) => {
    expect(() => toJudgedKratos(given, "flag", "--kratos-version")).toThrow(UsageError);
    expect(() => toJudgedKratos(given, "flag", "--kratos-version")).toThrow(
      /--kratos-version: expected a Kratos release such as v1\.3\.1 or v26\.2\.0/,
    );
  });

  it("a reported text that names no release says where it came from and what to pass", () => {
    expect(() => toJudgedKratos("master", "binary", "`kratos version` of /opt/kratos")).toThrow(
      '`kratos version` of /opt/kratos reports the Kratos version "master", which names no release (a build without its version set?): pass --kratos-version <release>',
    );
  });

  it("later features hold from their first release on, by the judged release", () => {
    const at = (v: string) => toJudgedKratos(v, "flag", "--kratos-version");
    expect(judgedAtLeast(at("v1.3.1"), "v25.4.0")).toBe(false);
    expect(judgedAtLeast(at("v25.3.0"), "v25.4.0")).toBe(false);
    expect(judgedAtLeast(at("v25.4.0"), "v25.4.0")).toBe(true);
    expect(judgedAtLeast(at("v26.2.0"), "v25.4.0")).toBe(true);
    expect(judgedAtLeast(at("v26.2.0"), "v26.3.0")).toBe(false);
  });

  it("releases compare by number, a pre-release as its release (the e2e suite's kratosAtLeast)", () => {
    expect(releaseAtLeast("v1.3.1", "v25.4.0")).toBe(false);
    expect(releaseAtLeast("v26.2.0", "v25.4.0")).toBe(true);
    expect(releaseAtLeast("v25.4.0-pre.1", "v25.4.0")).toBe(true);
    expect(releaseAtLeast("v1.10.0", "v1.9.0")).toBe(true);
    expect(() => releaseAtLeast("master", "v25.4.0")).toThrow("not a release: master");
  });
});

describe("--kratos-version that names no release: exit 2 on every command, nothing run", () => {
  it.each([
    [["doctor", "--kratos-version", "master"]],
    [["try", "registration-after", "--example", "password-email", "--kratos-version", "26"]],
    [["dev", "--kratos-version", "latest"]],
  ])("%j", async (argv) => {
    const run = await cli(...argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^kratos-hooks: --kratos-version: expected a Kratos release such as v1\.3\.1 or v26\.2\.0, found "/);
    expect(run.stdout).toBe("");
  });

  it("every command's --help names the flag", async () => {
    for (const command of ["doctor", "try", "dev"]) expect((await cli(command, "--help")).stdout).toContain("--kratos-version <v>");
    for (const command of ["doctor", "try"]) expect((await cli(command, "--help")).stdout).toContain("--admin-url <url>");
  });
});

describe("--admin-url: what goes wrong asking a Kratos for its release is a usage error naming the flag", () => {
  // A stand-in for the admin API, for the error paths only; the real v1.3.1 and v26.2.0 are asked end to end.
  let server: Server;
  let base: string;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const answers: Record<string, [number, string]> = {
    "/missing/admin/version": [404, "404 page not found"],
    "/html/admin/version": [200, "<html>not json</html>"],
    "/noversion/admin/version": [200, '{"status":"ok"}'],
    "/master/admin/version": [200, '{"version":"master"}'],
    "/locked/admin/version": [401, '{"error":{"code":401}}'],
  };
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? "", headers: req.headers });
      const [status, body] = answers[req.url ?? ""] ?? [404, "404 page not found"];
      res.writeHead(status, { "content-type": "text/plain" }).end(body);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
  });

  it.each([
    [
      "/missing",
      /answered 404; --admin-url must be the admin API \(port 4434 by default; the public API has no version endpoint\), or pass --kratos-version/,
    ],
    ["/html", /answered 200 without \{"version": "…"\}; or pass --kratos-version <release> instead/],
    ["/noversion", /answered 200 without \{"version": "…"\}/],
    ["/master", /\/master\/admin\/version reports the Kratos version "master", which names no release .*pass --kratos-version <release>/],
    ["/locked", /answered 401/],
  ])("%s", async (path, message) => {
    await expect(fetchKratosVersion(`${base}${path}`, {})).rejects.toThrow(message);
    expect(seen.at(-1)?.url).toBe(`${path}/admin/version`);
  });

  it("a base written …/admin names the same API, and KRATOS_ADMIN_TOKEN is sent as a bearer token", async () => {
    await expect(fetchKratosVersion(`${base}/locked/admin/`, { KRATOS_ADMIN_TOKEN: "ory_pat_test" })).rejects.toThrow(/answered 401/);
    expect(seen.at(-1)).toMatchObject({ url: "/locked/admin/version", headers: { authorization: "Bearer ory_pat_test" } });
  });

  it("an address nothing listens on, or not a URL", async () => {
    const closed = createNetServer().listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    await expect(fetchKratosVersion(`http://127.0.0.1:${port}`, {})).rejects.toThrow(
      new RegExp(`http://127\\.0\\.0\\.1:${port}/admin/version is unreachable \\(ECONNREFUSED\\); start Kratos, or pass --kratos-version`),
    );
    await expect(fetchKratosVersion("ftp://127.0.0.1:4434", {})).rejects.toThrow(/--admin-url: expected an http\(s\) URL/);
    await expect(fetchKratosVersion("not a url", {})).rejects.toThrow(/--admin-url: expected Kratos's admin API URL/);
    const withCredentials = fetchKratosVersion("http://admin:s3cret@127.0.0.1:4434", {});
    await expect(withCredentials).rejects.toThrow("--admin-url: the URL holds credentials; pass the token in KRATOS_ADMIN_TOKEN instead");
    await expect(withCredentials).rejects.not.toThrow(/s3cret/);
  });

  it("through the CLI: exit 2 for doctor and try, the message on stderr", async () => {
    for (const argv of [
      ["doctor", "--admin-url", `${base}/missing`],
      ["try", "registration-after", "--example", "password-email", "--admin-url", `${base}/master`],
    ]) {
      const run = await cli(...argv);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^kratos-hooks: /);
      expect(run.stdout).toBe("");
    }
  });

  it("the flag wins over the admin URL: nothing is asked", async () => {
    const before = seen.length;
    const run = await cli("doctor", "--kratos-version", "v26.2.0", "--admin-url", `${base}/missing`, "--json");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).kratosVersion).toMatchObject({ version: "v26.2.0", source: "flag" });
    expect(seen.length).toBe(before);
  });
});

describe("dev: the release the binary reports (`kratos version`), before anything starts", () => {
  /** A stand-in binary: a real process that answers `kratos version` as given, and fails for anything else. */
  function fakeKratos(versionOutput: string): string {
    const file = join(mkdtempSync(join(tmpdir(), "kratos-hooks-version-")), "kratos");
    writeFileSync(file, `#!/bin/sh\nif [ "$1" = version ]; then printf '%s' '${versionOutput}'; exit 0; fi\nexit 3\n`);
    chmodSync(file, 0o755);
    return file;
  }
  async function ports(): Promise<string[]> {
    const flags = ["--hooks-port", "--gateway-port", "--public-port", "--admin-port", "--sink-port"];
    const servers = flags.map(() => createNetServer().listen(0, "127.0.0.1"));
    await Promise.all(servers.map((s) => once(s, "listening")));
    const numbers = servers.map((s) => (s.address() as AddressInfo).port);
    await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
    return flags.flatMap((flag, i) => [flag, String(numbers[i])]);
  }
  const dev = async (bin: string, ...argv: string[]) =>
    cliProcess(["dev", ...(await ports()), ...argv], { cwd: ROOT, env: { KRATOS_BIN: bin } });

  it("a build that names no release: exit 2, asking for --kratos-version", async () => {
    const bin = fakeKratos("Version:\t\t\tmaster\nBuild Commit:\tundefined\n");
    const run = await dev(bin);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`\`kratos version\` of ${bin} reports the Kratos version "master", which names no release`);
    expect(run.stdout).toBe("");
  });

  it("a binary that says nothing: exit 2, asking for --kratos-version", async () => {
    const bin = fakeKratos("");
    const run = await dev(bin);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${bin} does not say which Kratos release it is (\`kratos version\`): pass --kratos-version <release>`);
  });

  it("KRATOS_BIN of another release than --kratos-version: exit 2, naming both", async () => {
    const bin = fakeKratos("Version:\t\t\tv1.3.1\n");
    const run = await dev(bin, "--kratos-version", "v26.2.0");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--kratos-version v26.2.0, but ${bin} reports v1.3.1`);
  });

  it("an untested release without KRATOS_BIN: exit 2, dev runs the tested ones", async () => {
    const run = await cliProcess(["dev", ...(await ports()), "--kratos-version", "v25.4.0"], { cwd: ROOT, env: {} });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--kratos-version v25.4.0: dev runs the tested releases (v1.3.1, v26.2.0); for another, set KRATOS_BIN");
  });
});
