import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { toProjectName } from "../../src/cli/init.js";
import { EXIT, EXIT_CODES_HELP } from "../../src/cli/usage.js";
import { cli, ROOT } from "../support/cli.js";

// `kratos-hooks init [dir] [--worker]`: what it writes. That the project installs, tests, type-checks
// and serves from the packed tarball is test/package/init.package.test.ts.

interface Manifest {
  name: string;
  version: string;
  type?: string;
  engines?: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

const OURS = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Manifest;

function freshDir(): string {
  return mkdtempSync(join(tmpdir(), "kratos-hooks-init-"));
}

/** Every file under `dir`, relative, `/`-separated. */
function filesIn(dir: string, within = ""): string[] {
  return readdirSync(join(dir, within), { withFileTypes: true }).flatMap((entry) => {
    const path = within === "" ? entry.name : `${within}/${entry.name}`;
    return entry.isDirectory() ? filesIn(dir, path) : [path];
  });
}

async function init(...argv: string[]) {
  const run = await cli("init", ...argv);
  expect(run.stderr).toBe("");
  expect(run.code).toBe(EXIT.ok);
  return run;
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), "utf8");
const manifest = (dir: string) => JSON.parse(read(dir, "package.json")) as Manifest;

/** The files both kinds of project get: the policy, its test, the rule, Kratos's wiring. */
const COMMON = [
  ".gitignore",
  "README.md",
  "package.json",
  "tsconfig.json",
  "src/policies/tag-signup.ts",
  "src/gateway/log-submissions.ts",
  "test/tag-signup.test.ts",
  "kratos/kratos.yml",
  "kratos/hooks/registration-after.jsonnet",
  "kratos/courier/sms.jsonnet",
  "schemas/default.schema.json",
];

describe.each([
  { mode: "node", argv: [] as string[] },
  { mode: "worker", argv: ["--worker"] },
])("init $argv: a $mode project", ({ mode, argv }) => {
  const worker = mode === "worker";

  it("writes its files and lists them, with the commands to run next", async () => {
    const dir = join(freshDir(), "app");
    const run = await init(dir, ...argv);
    const files = filesIn(dir);
    expect(files).toEqual(expect.arrayContaining(COMMON));
    const own = worker
      ? ["src/worker.ts", "wrangler.toml", ".dev.vars", "vitest.config.ts", "test/worker.test.ts", "test/env.d.ts"]
      : ["src/server.ts", ".env.example", "tsconfig.build.json"];
    const others = worker ? ["src/server.ts", ".env.example"] : ["src/worker.ts", "wrangler.toml", ".dev.vars"];
    expect(files).toEqual(expect.arrayContaining(own));
    for (const file of others) expect(files).not.toContain(file);
    // No template's own name (`_gitignore`) leaks.
    expect(files.filter((f) => f.split("/").some((part) => part.startsWith("_")))).toEqual([]);

    for (const file of files) expect(run.stdout).toContain(`\n  ${file}\n`);
    expect(run.stdout).toContain(`Wrote a ${worker ? "Cloudflare Worker" : "Node"} project in ${resolve(dir)} (package "app")`);
    expect(run.stdout).toMatch(/^Next:\n {2}cd .*app\n {2}npm install\n {2}npm test/m);
    expect(run.stdout).toContain(worker ? "npm run dev         # wrangler dev" : "npm start");
  });

  it("fills every placeholder: nothing of `{{…}}` is left outside kratos/", async () => {
    const dir = join(freshDir(), "app");
    await init(dir, ...argv);
    const templated = filesIn(dir).filter((f) => !f.startsWith("kratos/") && !f.startsWith("schemas/"));
    for (const file of templated) expect(read(dir, file), file).not.toMatch(/\{\{/);
    expect(read(dir, "README.md")).toMatch(/^# app\n/);
    expect(read(dir, "README.md")).toContain(`kratos-hooks ${OURS.version}`);
  });

  it("an ESM package.json: the scripts, kratos-hooks ^<this version>, the dev tools at the versions this package uses", async () => {
    const dir = join(freshDir(), "My Hooks_app");
    await init(dir, ...argv);
    const pkg = manifest(dir);
    expect(pkg.name).toBe("my-hooks-app");
    expect(pkg.type).toBe("module");
    expect(pkg.dependencies).toEqual({ "kratos-hooks": `^${OURS.version}` });
    expect(pkg.scripts).toMatchObject({ test: "vitest run", typecheck: "tsc --noEmit" });
    const tools = worker
      ? ["@cloudflare/vitest-pool-workers", "@cloudflare/workers-types", "typescript", "vitest", "wrangler"]
      : ["@types/node", "tsx", "typescript", "vitest"];
    expect(Object.keys(pkg.devDependencies).sort()).toEqual(tools);
    for (const tool of tools) expect(pkg.devDependencies[tool], tool).toBe(OURS.devDependencies[tool]);
    if (worker) {
      expect(pkg.scripts).toMatchObject({ dev: "wrangler dev" });
    } else {
      expect(pkg.engines).toEqual(OURS.engines);
      expect(pkg.scripts).toMatchObject({ start: "tsx src/server.ts", dev: "kratos-hooks dev --entry src/server.ts" });
    }
  });

  it("a strict tsconfig.json: NodeNext on Node, Bundler on Workers", async () => {
    const dir = join(freshDir(), "app");
    await init(dir, ...argv);
    const { compilerOptions } = JSON.parse(read(dir, "tsconfig.json")) as { compilerOptions: Record<string, unknown> };
    expect(compilerOptions.strict).toBe(true);
    expect(compilerOptions.moduleResolution).toBe(worker ? "bundler" : "nodenext");
  });

  it("the policy tags registration-after with one string literal, and the entry wires it and the rule", async () => {
    const dir = join(freshDir(), "app");
    await init(dir, ...argv);
    const policy = read(dir, "src/policies/tag-signup.ts");
    expect(policy).toContain('hooks: ["registration-after"]');
    // One literal, so that a test edits the tag by a text replace.
    expect(policy.match(/signup_source: "my-app"/g)).toHaveLength(1);
    expect(policy.match(/my-app/g)).toHaveLength(1);
    const entry = read(dir, worker ? "src/worker.ts" : "src/server.ts");
    expect(entry).toContain(worker ? 'from "kratos-hooks/worker"' : 'from "kratos-hooks/node"');
    expect(entry).toContain("[...builtInPolicies(config), tagSignup]");
    expect(entry).toContain("logSubmissions()");
    expect(read(dir, "src/gateway/log-submissions.ts")).toContain('c.get("attempt")');
    expect(read(dir, "test/tag-signup.test.ts")).toContain('from "kratos-hooks/testing"');
  });

  it("copies kratos.yml, its bodies and its identity schemas, and every file:// path resolves from kratos/", async () => {
    const dir = join(freshDir(), "app");
    await init(dir, ...argv);
    const files = filesIn(dir);
    for (const folder of ["kratos/hooks", "kratos/courier"]) {
      expect(files.filter((f) => f.startsWith(`${folder}/`))).toEqual(filesIn(join(ROOT, folder)).map((f) => `${folder}/${f}`));
    }
    for (const file of files.filter((f) => f.startsWith("kratos/") || f.startsWith("schemas/"))) {
      expect(read(dir, file), file).toBe(read(ROOT, file));
    }
    expect(files.some((f) => f.startsWith("kratos/build/") || f.startsWith("kratos/examples/"))).toBe(false);
    // Kratos runs from kratos/: `file://../schemas/…` is the project's schemas/.
    const yml = parse(read(dir, "kratos/kratos.yml"), { merge: true }) as { identity: { schemas: { url: string }[] } };
    const urls = JSON.stringify(yml).match(/file:\/\/[^"]+/g) ?? [];
    expect(urls.length).toBeGreaterThan(5);
    for (const url of urls) expect(existsSync(resolve(dir, "kratos", url.slice("file://".length))), url).toBe(true);
    expect(yml.identity.schemas.length).toBeGreaterThan(0);
  });

  it(".gitignore keeps out node_modules, builds, wrangler's state and local secrets", async () => {
    const dir = join(freshDir(), "app");
    await init(dir, ...argv);
    const ignored = read(dir, ".gitignore").split("\n");
    for (const entry of ["node_modules/", "dist/", ".wrangler/", ".env", ".dev.vars"]) expect(ignored).toContain(entry);
  });
});

describe("init --worker: the Worker's own files", () => {
  it("wrangler.toml runs src/worker.ts at the compatibility date this package's Worker is tested at; .dev.vars only for wrangler dev", async () => {
    const dir = join(freshDir(), "my-worker");
    await init(dir, "--worker");
    const toml = read(dir, "wrangler.toml");
    expect(toml).toMatch(/^name = "my-worker"$/m);
    expect(toml).toMatch(/^main = "src\/worker\.ts"$/m);
    const date = /^compatibility_date = "([\d-]+)"$/m;
    expect(toml.match(date)?.[1]).toBe(read(ROOT, "wrangler.toml").match(date)?.[1]);
    expect(read(dir, ".dev.vars")).toMatch(/^HOOKS_DEV_MODE=true$/m);
    expect(read(dir, ".dev.vars")).toContain("never deployed");
    const vitest = read(dir, "vitest.config.ts");
    expect(vitest).toContain('from "@cloudflare/vitest-pool-workers"');
    expect(vitest).toContain("HOOKS_API_KEYS");
  });
});

describe("init on Node: .env.example", () => {
  it("names the settings npm start reads", async () => {
    const dir = join(freshDir(), "app");
    await init(dir);
    const env = read(dir, ".env.example");
    for (const name of ["PORT", "HOST", "HOOKS_API_KEYS", "HOOKS_CONFIG_FILE", "HOOKS_CONFIG", "GATEWAY_KRATOS_URL", "LOG_LEVEL"]) {
      expect(env).toMatch(new RegExp(`^#? ?${name}=`, "m"));
    }
  });
});

describe("init: safe until deployed", () => {
  it("npm start listens on loopback unless HOST is set (serve's own default is 0.0.0.0), as .env.example and the README say", async () => {
    const dir = join(freshDir(), "app");
    await init(dir);
    const server = read(dir, "src/server.ts");
    // The environment serve reads: the process's, HOST defaulted to loopback when unset or empty.
    expect(server).toMatch(/await serve\(\{[^}]*\benv: \{ \.\.\.process\.env, HOST: process\.env\.HOST \|\| "127\.0\.0\.1" \},/);
    expect(read(dir, ".env.example")).toMatch(/^HOST=127\.0\.0\.1$/m);
    const readme = read(dir, "README.md");
    expect(readme).toContain("the hooks on http://127.0.0.1:8787");
    expect(readme).toContain("listens on 127.0.0.1 only unless `HOST`");
  });

  it.each([[[]], [["--worker"]]])("%j: the README says what to set before deploying, kratos.yml's fixed secrets included", async (argv) => {
    const dir = join(freshDir(), "app");
    await init(dir, ...argv);
    const readme = read(dir, "README.md");
    expect(readme).toContain("HOOKS_API_KEYS");
    expect(readme).toMatch(/replace `secrets\.cookie` and\s+`secrets\.cipher`/);
    expect(readme).toMatch(/fixed\s+development\s+ones/);
    if (argv.length === 0) expect(readme).toMatch(/set `HOST` to the address Kratos reaches the service on: `0\.0\.0\.0` in a container/);
    // What the README points at: kratos.yml has such secrets.
    const yml = parse(read(dir, "kratos/kratos.yml")) as { secrets: { cookie: string[]; cipher: string[] } };
    expect(yml.secrets.cookie.length).toBeGreaterThan(0);
    expect(yml.secrets.cipher.length).toBeGreaterThan(0);
  });
});

describe("where init writes", () => {
  const cwd = process.cwd();
  afterEach(() => process.chdir(cwd));

  it("without [dir], the current folder when it is empty; the package is named after it", async () => {
    const dir = join(freshDir(), "here");
    mkdirSync(dir);
    process.chdir(dir);
    const run = await init();
    expect(manifest(dir).name).toBe("here");
    expect(run.stdout).not.toContain("cd ");
  });

  it("refuses a folder that is not empty (exit 2), and writes nothing", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "notes.txt"), "mine\n");
    const run = await cli("init", dir);
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/^kratos-hooks: .* is not empty, and init writes a whole new project; name a new or empty folder/);
    expect(readdirSync(dir)).toEqual(["notes.txt"]);
  });

  it("refuses the current folder when it is not empty", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, ".git"), "");
    process.chdir(dir);
    const run = await cli("init", "--worker");
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain("the current folder is not empty");
  });

  it.each([
    ["kratos-hooks", []],
    ["Kratos_Hooks", ["--worker"]],
    ["vitest", []],
    ["tsx", []],
    ["wrangler", ["--worker"]],
  ])(
    "refuses a folder named %j (%j): the package would be named after its own dependency (exit 2), and writes nothing",
    async (folder, argv) => {
      const parent = freshDir();
      const dir = join(parent, folder);
      const run = await cli("init", dir, ...argv);
      expect(run.code).toBe(EXIT.usage);
      const name = toProjectName(dir);
      expect(run.stderr).toContain(`kratos-hooks: the project would be named "${name}" after its folder`);
      expect(run.stderr).toContain(`npm install would refuse to install ${name} into a package called ${name} (ENOSELF)`);
      expect(run.stderr).toContain("Name the folder otherwise: kratos-hooks init my-hooks");
      expect(readdirSync(parent)).toEqual([]);
    },
  );

  it("a name only the other kind of project depends on is fine", async () => {
    const dir = join(freshDir(), "wrangler");
    await init(dir);
    expect(manifest(dir).name).toBe("wrangler");
  });

  it("refuses a file, a second folder and an unknown option (exit 2)", async () => {
    const file = join(freshDir(), "file.txt");
    writeFileSync(file, "");
    for (const argv of [[file], ["a", "b"], ["a", "--bogus"]]) {
      const run = await cli("init", ...argv);
      expect(run.code, argv.join(" ")).toBe(EXIT.usage);
      expect(run.stderr).toMatch(/^kratos-hooks: /);
    }
  });

  it("--json: the folder, the name, the kind and the files", async () => {
    const dir = join(freshDir(), "app");
    const run = await init(dir, "--worker", "--json");
    const report = JSON.parse(run.stdout) as { dir: string; name: string; mode: string; files: string[] };
    expect(report).toMatchObject({ dir: resolve(dir), name: "app", mode: "worker" });
    expect(report.files).toEqual(filesIn(dir).sort());
  });

  it.each([
    ["app", "app"],
    ["My Hooks", "my-hooks"],
    ["--x__y--", "x-y"],
    ["ÄÖÜ", "kratos-hooks-app"],
    ["a".repeat(80), "a".repeat(63)],
  ])("the project's name from the folder %j is %j", (folder, name) => {
    expect(toProjectName(join(tmpdir(), folder))).toBe(name);
  });
});

describe("init --help", () => {
  it.each([[["init", "--help"]], [["init", "-h"]], [["help", "init"]]])("%j prints its usage and the exit-code table", async (argv) => {
    const run = await cli(...argv);
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toMatch(/^kratos-hooks init \[dir\] \[options\]\n/);
    expect(run.stdout).toContain("--worker");
    expect(run.stdout).toContain(EXIT_CODES_HELP);
  });

  it("the main help lists it", async () => {
    const run = await cli("--help");
    expect(run.stdout).toMatch(/^ {2}kratos-hooks init \[dir\] \[--worker\] +a new project/m);
  });
});
