// kratos-hooks as others get it: `npm pack`, then the tarball installed into a temporary project
// (an npm workspace holding both examples and the docs' TypeScript snippets), nothing read from
// src/. Each example builds and runs its own tests there: on Node against real processes, and in
// workerd through @cloudflare/vitest-pool-workers.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../support/package-run.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const EXAMPLES = ["node-invite-only", "worker-signup-country"];
let work = "";
let tarball = "";
let consumer = "";

/** The TypeScript blocks of docs/library.md marked `<!-- typechecked -->`, each a module of its own. */
function typecheckedSnippets(markdown: string): string[] {
  return [...markdown.matchAll(/<!-- typechecked -->\n```ts\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? "");
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "kratos-hooks-package-"));
  // `npm pack` runs `prepare` (the build) first, as publishing does.
  const packed = execFileSync("npm", ["pack", "--pack-destination", work, "--json"], { cwd: ROOT, encoding: "utf8" });
  tarball = join(work, (JSON.parse(packed) as { filename: string }[])[0]?.filename ?? "");

  consumer = join(work, "consumer");
  const snippets = join(consumer, "docs-snippets");
  mkdirSync(snippets, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { allowScripts: Record<string, boolean> };
  writeFileSync(
    join(consumer, "package.json"),
    JSON.stringify(
      { name: "consumer", private: true, workspaces: [...EXAMPLES, "docs-snippets"], allowScripts: manifest.allowScripts },
      null,
      2,
    ),
  );
  for (const example of EXAMPLES) {
    const to = join(consumer, example);
    cpSync(join(ROOT, "examples", example), to, {
      recursive: true,
      filter: (path) => !/\/(node_modules|dist|\.wrangler)(\/|$)/.test(path.slice(ROOT.length)),
    });
    // The one change a consumer of the registry would not make: this version comes from the tarball.
    const file = join(to, "package.json");
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { dependencies: Record<string, string> };
    expect(pkg.dependencies["kratos-hooks"]).toBe("^0.2.0");
    pkg.dependencies["kratos-hooks"] = `file:${tarball}`;
    writeFileSync(file, JSON.stringify(pkg, null, 2));
  }
  const docs = typecheckedSnippets(readFileSync(join(ROOT, "docs", "library.md"), "utf8"));
  docs.forEach((code, i) => {
    writeFileSync(join(snippets, `snippet-${i + 1}.ts`), `${code}\n`);
  });
  writeFileSync(
    join(snippets, "package.json"),
    JSON.stringify({
      name: "docs-snippets",
      private: true,
      type: "module",
      dependencies: { "kratos-hooks": `file:${tarball}` },
      devDependencies: { "@types/node": "^20.19.43", typescript: "^5.9.2" },
    }),
  );
  writeFileSync(
    join(snippets, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "es2022",
        lib: ["es2023", "dom"],
        module: "nodenext",
        moduleResolution: "nodenext",
        types: ["node"],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      include: ["*.ts"],
    }),
  );
  const installed = run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], consumer);
  if (installed.code !== 0) throw new Error(`npm install of the tarball failed:\n${installed.output}`);
});

afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true });
});

describe("the packed tarball", () => {
  it("holds the compiled JS, the .d.ts of each entry and the CLI's files, and no tests or examples", () => {
    const files = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ""));
    for (const entry of ["index", "node", "worker"]) {
      expect(files).toContain(`dist/src/${entry}.js`);
      expect(files).toContain(`dist/src/${entry}.d.ts`);
    }
    expect(files).toContain("dist/src/cli/bin.js");
    expect(files).toContain("kratos/kratos.yml");
    expect(files).toContain("CHANGELOG.md");
    expect(files.filter((f) => /^(test|examples|node_modules|\.ci)\//.test(f))).toEqual([]);
  });

  it("exports only its entries: a deep import is refused", () => {
    const inside = join(consumer, "node-invite-only");
    const deep = run(process.execPath, ["--input-type=module", "-e", 'await import("kratos-hooks/dist/src/core/pipeline.js")'], inside);
    expect(deep.code).not.toBe(0);
    expect(deep.output).toContain("ERR_PACKAGE_PATH_NOT_EXPORTED");
    const entries = run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'for (const e of ["kratos-hooks", "kratos-hooks/node", "kratos-hooks/worker", "kratos-hooks/testing"]) console.log(e, Object.keys(await import(e)).length)',
      ],
      inside,
    );
    expect(entries.code, entries.output).toBe(0);
    for (const entry of ["kratos-hooks", "kratos-hooks/node", "kratos-hooks/worker", "kratos-hooks/testing"]) {
      expect(entries.output).toMatch(new RegExp(`^${entry} [1-9]\\d*$`, "m"));
    }
  });

  it("type-checks every snippet docs/library.md marks as typechecked", () => {
    const count = readdirSync(join(consumer, "docs-snippets")).filter((f) => f.startsWith("snippet-")).length;
    expect(count).toBeGreaterThanOrEqual(3);
    const checked = run("npx", ["tsc", "-p", "."], join(consumer, "docs-snippets"));
    expect(checked.code, checked.output).toBe(0);
  });
});

describe.each(EXAMPLES)("examples/%s, installed from the tarball", (example) => {
  it("builds", () => {
    const built = run("npm", ["run", "build"], join(consumer, example));
    expect(built.code, built.output).toBe(0);
    if (example === "worker-signup-country") {
      const bundle = readFileSync(join(consumer, example, "dist", "index.js"));
      // Reported, not judged here: the shipped Worker's budget is checked by `npm run build:worker`.
      console.log(
        `${example}: Worker bundle ${(bundle.byteLength / 1024).toFixed(1)} KiB minified, ${(gzipSync(bundle).byteLength / 1024).toFixed(1)} KiB gzipped`,
      );
    }
  });

  it("passes its own tests", () => {
    const tested = run("npm", ["test"], join(consumer, example));
    expect(tested.code, tested.output).toBe(0);
    expect(tested.output).toMatch(/Tests\s+\d+ passed/);
    expect(tested.output).not.toMatch(/\d+ (failed|skipped)/);
  });
});
