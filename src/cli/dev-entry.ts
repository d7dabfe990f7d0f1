import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SHIPPED_ADDRESSES } from "./dev-stack.js";
import { readKratosConfig } from "./kratos-config.js";
import { displayPath, PACKAGE_ROOT, UsageError } from "./usage.js";

// `kratos-hooks dev --entry <file>` and `--config <kratos.yml>`: which service and which Kratos
// config dev runs. The processes themselves are dev-service.ts's and dev-run.ts's.

const ENTRY_EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"];

/** `--entry <file>`: an existing TypeScript or JavaScript file, as an absolute path. */
export function parseDevEntry(file: string, cwd: string = process.cwd()): string {
  const path = resolve(cwd, file);
  if (!ENTRY_EXTENSIONS.includes(extname(path))) {
    throw new UsageError(
      `--entry ${file}: expected a TypeScript or JavaScript file (${ENTRY_EXTENSIONS.join(", ")}) that calls serve() from kratos-hooks/node, such as src/server.ts`,
    );
  }
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    throw new UsageError(`--entry ${file}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (!isFile) throw new UsageError(`--entry ${file}: ${path} is not a file`);
  return path;
}

/** The tsx that runs the entry: its CLI script (run with this Node), where it came from, its version. */
export interface TsxCli {
  cli: string;
  version: string;
  /** `project`: found from the entry's folder up (your node_modules); `kratos-hooks`: this package's. */
  from: "project" | "kratos-hooks";
}

function tsxFrom(dir: string): { cli: string; version: string } | undefined {
  let manifest: string;
  try {
    // Node's own lookup: node_modules of `dir` and of each folder above it (npm, pnpm and workspaces alike).
    manifest = createRequire(join(dir, "package.json")).resolve("tsx/package.json");
  } catch (error) {
    // No tsx there (or one that hides its package.json); any other failure is not "none found".
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "MODULE_NOT_FOUND" || code === "ERR_PACKAGE_PATH_NOT_EXPORTED") return undefined;
    throw error;
  }
  const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { version?: string; bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === "string" ? pkg.bin : pkg.bin?.tsx;
  if (bin === undefined) return undefined;
  const cli = join(dirname(manifest), bin);
  return existsSync(cli) ? { cli, version: pkg.version ?? "unknown" } : undefined;
}

/**
 * tsx for `--entry`: your project's (looked up from the entry's folder), else one beside
 * kratos-hooks (`packageDir`: a clone of kratos-hooks has it as a dev dependency; an installed
 * kratos-hooks brings none, so a project needs its own, as `init` writes it), else undefined.
 */
export function resolveTsx(entryDir: string, packageDir: string = PACKAGE_ROOT): TsxCli | undefined {
  const own = tsxFrom(entryDir);
  if (own !== undefined) return { ...own, from: "project" };
  const ours = tsxFrom(packageDir);
  return ours === undefined ? undefined : { ...ours, from: "kratos-hooks" };
}

/** What to say when no tsx is found for the entry. */
export function missingTsx(entry: string): string {
  return (
    `--entry ${displayPath(entry)} runs through tsx (tsx watch, rerun on a change), and none was found in your project ` +
    `(from ${dirname(entry)} up) nor beside kratos-hooks: install it in your project with \`npm install --save-dev tsx\``
  );
}

/** The probe dev preloads into the entry (dev-entry-probe.ts, compiled), beside this file or in dist/. */
export function probeFile(): string {
  const beside = fileURLToPath(new URL("./dev-entry-probe.js", import.meta.url));
  return existsSync(beside) ? beside : join(PACKAGE_ROOT, "dist", "src", "cli", "dev-entry-probe.js");
}

export type DevKratosConfigSource = "--config" | "project" | "shipped";

/** The kratos.yml dev gives Kratos, before dev's own changes. */
export interface DevKratosConfig {
  file: string;
  source: DevKratosConfigSource;
  text: string;
}

/**
 * `--config` when given; else, with `--entry`, the project's ./kratos/kratos.yml when there is one
 * (what `kratos-hooks init` writes); else the shipped kratos/kratos.yml. A file that cannot be
 * read, or is not YAML (nor JSON), is a usage error.
 */
export function chooseDevKratosConfig(
  args: { config?: string | undefined; entry?: string | undefined },
  cwd: string = process.cwd(),
): DevKratosConfig {
  const shipped = join(PACKAGE_ROOT, "kratos", "kratos.yml");
  const project = join(cwd, "kratos", "kratos.yml");
  let file = shipped;
  let source: DevKratosConfigSource = "shipped";
  if (args.config !== undefined) {
    file = resolve(cwd, args.config);
    source = "--config";
  } else if (args.entry !== undefined && existsSync(project)) {
    file = project;
    source = "project";
  }
  try {
    readKratosConfig(file);
  } catch (error) {
    const given = source === "--config" ? `--config ${args.config}` : `${displayPath(file)}`;
    throw new UsageError(`${given}: ${(error as Error).message}`);
  }
  return { file, source, text: readFileSync(file, "utf8") };
}

/**
 * kratos.yml as dev runs it: the shipped addresses of the hooks and the courier sink moved to
 * where dev runs them (`--hooks-port`, `--sink-port`), nothing else; what was moved, for the banner.
 * serve.* and the DSN are set through Kratos's environment, which outranks the file.
 */
export function toDevKratosConfig(text: string, urls: { hooks: string; sink: string }): { text: string; changes: string[] } {
  let out = text;
  const changes: string[] = [];
  for (const name of ["hooks", "sink"] as const) {
    const from = SHIPPED_ADDRESSES[name];
    if (from === urls[name]) continue;
    // Not a longer port that starts the same (…:87870).
    const pattern = new RegExp(`${from.replaceAll(".", "\\.")}(?!\\d)`, "g");
    const count = out.match(pattern)?.length ?? 0;
    if (count === 0) continue;
    out = out.replace(pattern, urls[name]);
    changes.push(`${from} → ${urls[name]} (${count}×)`);
  }
  return { text: out, changes };
}
