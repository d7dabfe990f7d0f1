import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { resolveReportingKratos } from "../../src/cli/kratos-binary.js";

// `npm run kratos:build -- v26.2.0` (src/cli/kratos-binary.ts, compiled): how the e2e runner and
// the benchmark get Kratos v26.2.0. Run from a copy of the module and those it imports in a folder
// of its own, so the tests decide what lies beside the "project" (no shared/ folder, a wrong archive).

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
let dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

/** A folder holding `project/` (the compiled module and a package.json named kratos-hooks) and an empty cache. */
function sandbox(): { root: string; module: string; cache: string } {
  const root = mkdtempSync(join(tmpdir(), "kratos-binary-"));
  dirs.push(root);
  const cli = join(root, "project", "dist", "src", "cli");
  mkdirSync(cli, { recursive: true });
  for (const file of ["kratos-binary.js", "kratos-build.js", "kratos-cache.js", "kratos-provided.js", "usage.js"])
    copyFileSync(join(ROOT, "dist/src/cli", file), join(cli, file));
  writeFileSync(join(root, "project", "package.json"), JSON.stringify({ name: "kratos-hooks", type: "module" }));
  return { root, module: join(cli, "kratos-binary.js"), cache: join(root, "cache") };
}

function run(module: string, cache: string, env: Record<string, string> = {}, version = "v26.2.0") {
  const { KRATOS_BIN_V26_2_0: _, ...inherited } = process.env;
  return spawnSync(process.execPath, [module, version], { encoding: "utf8", env: { ...inherited, XDG_CACHE_HOME: cache, ...env } });
}

/** An executable that answers `version` as a Kratos release does. */
function fakeKratos(dir: string, version: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "kratos");
  writeFileSync(path, `#!/bin/sh\nprintf 'Version:\\t\\t\\t${version}\\n'\n`);
  chmodSync(path, 0o755);
  return path;
}

describe("finding Kratos v26.2.0", () => {
  it("with no binary anywhere, says so, names the override, and exits 1", () => {
    const { module, cache } = sandbox();
    const result = run(module, cache);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("no Kratos v26.2.0 binary here");
    expect(result.stderr).toContain("KRATOS_BIN_V26_2_0=");
    expect(result.stderr).toContain("--kratos=v1.3.1");
  });

  it("refuses an archive whose sha256 is not the pinned one, and leaves nothing in the cache", () => {
    const { root, module, cache } = sandbox();
    const archive = join(root, "shared", "kratos", "v26.2.0", "kratos-linux-amd64.gz");
    mkdirSync(dirname(archive), { recursive: true });
    writeFileSync(archive, gzipSync("#!/bin/sh\necho not kratos\n"));
    const result = run(module, cache);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/kratos-linux-amd64\.gz: sha256 [0-9a-f]{64} is not the pinned b7a6481b/);
    expect(existsSync(join(cache, "kratos-hooks", "kratos-v26.2.0", "kratos"))).toBe(false);
  });

  it("a clone of a local checkout finds the archive beside that checkout (its origin), sha256 checked there too", () => {
    const { root, module, cache } = sandbox();
    const checkout = join(root, "elsewhere", "main");
    mkdirSync(checkout, { recursive: true });
    const archive = join(root, "elsewhere", "shared", "kratos", "v26.2.0", "kratos-linux-amd64.gz");
    mkdirSync(dirname(archive), { recursive: true });
    writeFileSync(archive, gzipSync("#!/bin/sh\necho not kratos\n"));
    const git = (...args: string[]) => spawnSync("git", args, { cwd: join(root, "project"), encoding: "utf8" });
    expect(run(module, cache).stderr).toContain("no Kratos v26.2.0 binary here");
    expect(git("init", "-q").status).toBe(0);
    expect(git("remote", "add", "origin", checkout).status).toBe(0);
    const result = run(module, cache);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${archive}: sha256 `);
  });

  it("KRATOS_BIN_V26_2_0 names the binary; one that is not executable is refused", () => {
    const { root, module, cache } = sandbox();
    const binary = fakeKratos(root, "v26.2.0");
    const found = run(module, cache, { KRATOS_BIN_V26_2_0: binary });
    expect(found.status).toBe(0);
    expect(found.stdout.trim()).toBe(binary);
    chmodSync(binary, 0o644);
    const refused = run(module, cache, { KRATOS_BIN_V26_2_0: binary });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`KRATOS_BIN_V26_2_0=${binary} is not an executable file`);
  });

  it("a cached binary that is not the pinned one is replaced from the archive, or the run says there is none", () => {
    const { module, cache } = sandbox();
    fakeKratos(join(cache, "kratos-hooks", "kratos-v26.2.0"), "v26.2.0");
    const result = run(module, cache);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("is not the v26.2.0 binary (sha256 differs)");
    expect(result.stderr).toContain("no Kratos v26.2.0 binary here");
  });

  it("an unknown version is refused with the tested ones named", () => {
    const { module, cache } = sandbox();
    const result = run(module, cache, {}, "v25.4.0");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("unknown version v25.4.0: expected one of v1.3.1, v26.2.0");
  });

  it("for results labelled by release, the binary must say it is that release", () => {
    const { root } = sandbox();
    const saved = process.env.KRATOS_BIN_V26_2_0;
    try {
      process.env.KRATOS_BIN_V26_2_0 = fakeKratos(join(root, "right"), "v26.2.0");
      expect(resolveReportingKratos("v26.2.0", () => {}).path).toBe(process.env.KRATOS_BIN_V26_2_0);
      const wrong = fakeKratos(join(root, "wrong"), "v1.3.1");
      process.env.KRATOS_BIN_V26_2_0 = wrong;
      expect(() => resolveReportingKratos("v26.2.0", () => {})).toThrow(
        `${wrong} says it is Kratos v1.3.1; set KRATOS_BIN_V26_2_0 to a v26.2.0 binary`,
      );
    } finally {
      if (saved === undefined) delete process.env.KRATOS_BIN_V26_2_0;
      else process.env.KRATOS_BIN_V26_2_0 = saved;
    }
  });
});
