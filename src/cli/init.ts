import { constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { parse } from "yaml";
import { DEFAULT_HOOKS_PORT } from "../config/node-settings.js";
import { displayPath, PACKAGE_ROOT, UsageError } from "./usage.js";

/** A Node service (`serve()` from kratos-hooks/node) or a Cloudflare Worker (`createWorker()`). */
export type InitMode = "node" | "worker";

export interface InitArgs {
  /** The new project's folder, created if missing; default: the current folder. Must be empty. */
  dir?: string | undefined;
  worker?: boolean | undefined;
}

export interface InitReport {
  /** The project's folder, absolute. */
  dir: string;
  name: string;
  mode: InitMode;
  /** What was written, relative to `dir`, `/`-separated, sorted. */
  files: string[];
}

/** templates/common, then templates/<mode>: the files of a new project, placeholders in `{{…}}`. */
const TEMPLATES = join(PACKAGE_ROOT, "templates");
const FALLBACK_NAME = "kratos-hooks-app";

interface Manifest {
  version: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/**
 * The project's name from its folder: a valid npm package name and Worker name alike (lower-case
 * letters, digits and dashes, at most 63).
 */
export function toProjectName(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .slice(0, 63)
    .replace(/^-+|-+$/g, "");
  return name === "" ? FALLBACK_NAME : name;
}

/** Every file under `root`, as path segments relative to it. */
function filesUnder(root: string, within: string[] = []): string[][] {
  return readdirSync(join(root, ...within), { withFileTypes: true }).flatMap((entry) => {
    const segments = [...within, entry.name];
    if (entry.isDirectory()) return filesUnder(root, segments);
    return entry.isFile() ? [segments] : [];
  });
}

/**
 * A template's name in the project: a segment `_name` is `.name`. `npm pack` leaves every
 * `.gitignore` out of the tarball, so the templates keep their dotfiles under another name.
 */
function projectPath(segments: string[]): string {
  return segments.map((part) => (part.startsWith("_") ? `.${part.slice(1)}` : part)).join("/");
}

/** Fills `{{name}}`, `{{kratosHooksVersion}}`, `{{node}}` and `{{version:<package>}}` from this package's manifest. */
function fill(text: string, file: string, name: string, manifest: Manifest): string {
  return text.replace(/\{\{([A-Za-z]+)(?::([^}]+))?\}\}/g, (placeholder, key: string, arg: string | undefined) => {
    const value =
      key === "name"
        ? name
        : key === "kratosHooksVersion"
          ? manifest.version
          : key === "node"
            ? manifest.engines?.node
            : key === "version" && arg !== undefined
              ? (manifest.devDependencies?.[arg] ?? manifest.dependencies?.[arg])
              : undefined;
    // The templates and this package's manifest ship together: a gap is our bug.
    if (value === undefined) throw new Error(`kratos-hooks init: templates/${file}: nothing to fill ${placeholder} with`);
    return value;
  });
}

/** Every `file://` URL in a parsed kratos.yml. */
function fileUrls(value: unknown): string[] {
  if (typeof value === "string") return value.startsWith("file://") ? [value.slice("file://".length)] : [];
  if (Array.isArray(value)) return value.flatMap(fileUrls);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(fileUrls);
  return [];
}

/**
 * This package's Kratos wiring, as paths relative to the package: kratos/kratos.yml, its Jsonnet
 * bodies (kratos/hooks, kratos/courier) and every file it names (the identity schemas). Its
 * `file://` paths resolve from Kratos's working directory, kratos/, so the same layout in the
 * project keeps them valid.
 */
function kratosFiles(): string[] {
  const kratos = join(PACKAGE_ROOT, "kratos");
  const yml = parse(readFileSync(join(kratos, "kratos.yml"), "utf8"), { merge: true }) as unknown;
  const named = fileUrls(yml).map((path) => relative(PACKAGE_ROOT, resolve(kratos, path)));
  const bodies = ["hooks", "courier"].flatMap((folder) => filesUnder(join(kratos, folder)).map((s) => join("kratos", folder, ...s)));
  const files = [...new Set([join("kratos", "kratos.yml"), ...bodies, ...named])];
  for (const file of files) {
    if (file.startsWith("..") || !existsSync(join(PACKAGE_ROOT, file))) {
      throw new Error(`kratos-hooks init: kratos/kratos.yml names ${file}, which this package does not ship`);
    }
  }
  return files;
}

function assertEmpty(target: string, given: string | undefined): void {
  if (!existsSync(target)) return;
  const usage = "name a new or empty folder: kratos-hooks init my-hooks";
  if (!statSync(target).isDirectory()) throw new UsageError(`${displayPath(target)} is a file; ${usage}`);
  if (readdirSync(target).length > 0) {
    const what = given === undefined ? "the current folder" : displayPath(target);
    throw new UsageError(`${what} is not empty, and init writes a whole new project; ${usage}`);
  }
}

/** The packages the project's package.json (templates/<mode>/package.json) depends on, dev tools included. */
function scaffoldDependencies(mode: InitMode): string[] {
  const manifest = JSON.parse(readFileSync(join(TEMPLATES, mode, "package.json"), "utf8")) as Manifest;
  return [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.devDependencies ?? {})];
}

/** npm refuses to install a package into one of the same name (ENOSELF): the project may not be named after a dependency. */
function assertNameFree(name: string, mode: InitMode, dir: string): void {
  if (!scaffoldDependencies(mode).includes(name)) return;
  throw new UsageError(
    `the project would be named "${name}" after its folder ${displayPath(dir)}, and it depends on a package of that name: ` +
      `npm install would refuse to install ${name} into a package called ${name} (ENOSELF). ` +
      "Name the folder otherwise: kratos-hooks init my-hooks",
  );
}

/**
 * Writes a new project that runs kratos-hooks with a policy and a gateway rule of its own:
 * templates/common and templates/<mode> with their placeholders filled, and this package's
 * kratos/ and schemas/ to edit. Never overwrites: the folder must be empty or new.
 *
 * @throws UsageError when the folder exists and is not empty, or is a file, or when its name
 * (the package's) is that of one of the project's dependencies (`kratos-hooks`, `vitest`, …).
 */
export function runInit(args: InitArgs): InitReport {
  const mode: InitMode = args.worker === true ? "worker" : "node";
  const dir = resolve(args.dir ?? ".");
  assertEmpty(dir, args.dir);
  const name = toProjectName(dir);
  assertNameFree(name, mode, dir);
  const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as Manifest;

  const written: string[] = [];
  const write = (file: string, content: string) => {
    const to = join(dir, ...file.split("/"));
    mkdirSync(dirname(to), { recursive: true });
    // "wx": never over a file, should one appear meanwhile.
    writeFileSync(to, content, { flag: "wx" });
    written.push(file);
  };
  for (const folder of ["common", mode]) {
    for (const segments of filesUnder(join(TEMPLATES, folder))) {
      const source = [folder, ...segments].join("/");
      write(projectPath(segments), fill(readFileSync(join(TEMPLATES, folder, ...segments), "utf8"), source, name, manifest));
    }
  }
  for (const file of kratosFiles()) {
    const to = join(dir, file);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(PACKAGE_ROOT, file), to, constants.COPYFILE_EXCL);
    written.push(file.split(sep).join("/"));
  }
  return { dir, name, mode, files: written.sort() };
}

/** What was written and the commands to run next. */
export function formatInit(report: InitReport): string {
  const where = displayPath(report.dir);
  const cd = relative(process.cwd(), report.dir) === "" ? [] : [`cd ${/\s/.test(where) ? JSON.stringify(where) : where}`];
  const next =
    report.mode === "worker"
      ? ["npm install", "npm test            # inside workerd", "npm run dev         # wrangler dev: the hooks on http://127.0.0.1:8787"]
      : [
          "npm install",
          "npm test",
          `npm start           # the hooks on http://127.0.0.1:${DEFAULT_HOOKS_PORT}`,
          "npm run dev         # with Kratos, the gateway and a courier sink (kratos-hooks dev)",
        ];
  const entry = report.mode === "worker" ? "src/worker.ts" : "src/server.ts";
  return [
    `Wrote a ${report.mode === "worker" ? "Cloudflare Worker" : "Node"} project in ${where} (package "${report.name}"):`,
    ...report.files.map((file) => `  ${file}`),
    "",
    "Next:",
    ...[...cd, ...next].map((line) => `  ${line}`),
    "",
    `Your policy is src/policies/tag-signup.ts, wired in ${entry}; README.md says more.`,
    "",
  ].join("\n");
}
