import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Dependencies point one way (docs/design.md): core knows nothing of how it is configured, served
// or called; each layer may import only the layers listed for it. Nothing imports an adapter but
// the public entries (src/index.ts, node.ts, worker.ts) and the CLI its Redis store (CLI_ADAPTERS),
// only cli/bin.ts's own folder imports the cli, and the shipped service's mains import nothing
// but the public entries. `testing` is kratos-hooks/testing's code (src/testing.ts): it runs the
// real app, so it sits above http, and runs in workerd like it.
const LAYERS = ["core", "validation", "config", "kratos", "http", "gateway", "backfill", "testing", "cli", "adapters", "entries"] as const;
type Layer = (typeof LAYERS)[number];

const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  core: [],
  validation: [],
  config: ["core", "validation"],
  kratos: ["core", "validation"],
  http: ["core", "kratos", "config"],
  gateway: ["core", "kratos", "config"],
  backfill: ["core", "config"],
  testing: ["core", "validation", "config", "kratos", "http"],
  cli: ["core", "validation", "config", "kratos", "http", "gateway", "backfill"],
  adapters: ["core", "config", "http", "gateway"],
  entries: ["core", "validation", "config", "kratos", "http", "gateway", "testing", "adapters"],
};

/** The public entries (package.json `exports`), each a file of its own at the top of src/. */
const ENTRIES = ["index.ts", "node.ts", "worker.ts", "testing.ts"];
/** The shipped service's mains (`npm start`, wrangler.toml `main`): users of the public entries like any other. */
const MAINS = [join("adapters", "node.ts"), join("adapters", "worker.ts")];
/** The entries that must run in workerd, with everything they import. */
const WORKER_SAFE_ENTRIES = ["index.ts", "worker.ts", "testing.ts"];
/** Packages that need Node: never reachable from a Worker-safe entry. */
const NODE_ONLY_PACKAGES = ["pino", "prom-client", "@hono/node-server", "@ory/client", "yaml", "ioredis"];

/**
 * The one adapter the CLI may load (on use): the Redis store `kratos-hooks shield --redis` opens,
 * as the service does. A CLI cannot reach the service's memory; Redis it can.
 */
const CLI_ADAPTERS = [join("adapters", "redis-shield-store.ts")];

/** Layers whose code only reads the validated config's types, never runs config code. */
const TYPE_ONLY: Partial<Record<Layer, readonly Layer[]>> = { http: ["config"], gateway: ["config"], backfill: ["config"] };

/** Code that runs in workerd (the Worker bundles http, gateway and what they import): no `node:*`. */
const PORTABLE: readonly Layer[] = ["core", "validation", "kratos", "http", "gateway", "testing"];

/** npm packages that belong to one layer: the Node server's, the backfill's, the CLI's. */
const PACKAGE_OWNERS: Record<string, readonly Layer[]> = {
  pino: ["adapters"],
  "prom-client": ["adapters"],
  "@hono/node-server": ["adapters"],
  ioredis: ["adapters"],
  "@ory/client": ["backfill"],
  yaml: ["cli"],
};

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SRC = join(ROOT, "src");

interface Import {
  file: string;
  line: number;
  specifier: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every static import, re-export and dynamic `import("…")` of a file, with its line. */
function importsOf(file: string, text: string): Import[] {
  const found: Import[] = [];
  const patterns = [
    /^\s*(import|export)\s+(type\s+)?[^;]*?\sfrom\s+"([^"]+)"/gms,
    /^\s*import\s+"([^"]+)"/gm,
    /\bimport\(\s*"([^"]+)"\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      const specifier = match[3] ?? match[1] ?? "";
      const line = text.slice(0, match.index).split("\n").length + (match[0].match(/^\s*/)?.[0].split("\n").length ?? 1) - 1;
      found.push({ file, line, specifier, typeOnly: match[2] !== undefined });
    }
  }
  return found;
}

function layerOf(path: string): Layer | "outside" {
  if (ENTRIES.includes(relative(SRC, path).replace(/\.js$/, ".ts"))) return "entries";
  const [top] = relative(SRC, path).split(sep);
  return (LAYERS as readonly string[]).includes(top ?? "") && !relative(SRC, path).startsWith("..") ? (top as Layer) : "outside";
}

/** What is wrong with one import, or null when the rules allow it. */
function violationOf(imp: Import): string | null {
  const from = layerOf(imp.file);
  if (from === "outside") return null;
  const where = `${relative(ROOT, imp.file)}:${imp.line} imports "${imp.specifier}"`;
  if (imp.specifier.startsWith("node:")) {
    if (PORTABLE.includes(from)) return `${where}: ${from} runs in workerd and may not use Node built-ins`;
    if (from === "config" && !imp.file.endsWith("node-settings.ts")) return `${where}: only config/node-settings.ts may use Node built-ins`;
    return null;
  }
  if (!imp.specifier.startsWith(".")) {
    const name = imp.specifier.startsWith("@") ? imp.specifier.split("/").slice(0, 2).join("/") : (imp.specifier.split("/")[0] ?? "");
    const owners = PACKAGE_OWNERS[name];
    return owners === undefined || owners.includes(from) ? null : `${where}: ${name} belongs to ${owners.join(", ")}`;
  }
  const target = join(dirname(imp.file), imp.specifier);
  const to = layerOf(target);
  if (MAINS.includes(relative(SRC, imp.file))) {
    return to === "entries"
      ? null
      : `${where}: the shipped service's mains import only the public entries (src/index.ts, node.ts, worker.ts)`;
  }
  if (to === "outside") {
    const outside = relative(ROOT, target).split(sep)[0];
    return from === "config" && outside === "schemas" ? null : `${where}: only config reads files outside src/ (the bundled schemas)`;
  }
  if (to === from) return null;
  if (from === "cli" && CLI_ADAPTERS.includes(relative(SRC, target).replace(/\.js$/, ".ts"))) return null;
  if (!MAY_IMPORT[from].includes(to)) return `${where}: ${from} may import only ${MAY_IMPORT[from].join(", ") || "itself"}`;
  if (TYPE_ONLY[from]?.includes(to) && !imp.typeOnly) return `${where}: ${from} may import only types from ${to}`;
  return null;
}

/** `x.js` → `x.ts`, as the sources name what they import. */
function sourceOf(file: string, specifier: string): string {
  return join(dirname(file), specifier).replace(/\.js$/, ".ts");
}

/** Every src/ file an entry reaches through its imports, with the imports of each. */
function reachableFrom(entry: string, importsByFile: ReadonlyMap<string, readonly Import[]>): Import[] {
  const seen = new Set<string>([entry]);
  const queue = [entry];
  const found: Import[] = [];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const imp of importsByFile.get(file) ?? []) {
      found.push(imp);
      if (!imp.specifier.startsWith(".") || imp.typeOnly) continue;
      const target = sourceOf(file, imp.specifier);
      if (!seen.has(target) && importsByFile.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return found;
}

describe("the import graph of src/", () => {
  const files = sourceFiles(SRC);
  const imports = files.flatMap((file) => importsOf(file, readFileSync(file, "utf8")));

  it("reads the imports it checks (a parser that sees nothing would pass anything)", () => {
    expect(files.length).toBeGreaterThan(50);
    const fromCore = imports.filter((i) => layerOf(i.file) === "core" && i.specifier.startsWith("."));
    expect(fromCore.length).toBeGreaterThan(30);
    expect(imports.some((i) => i.specifier === "../config/schema.js" && i.typeOnly && i.file.endsWith(join("http", "app.ts")))).toBe(true);
    expect(imports.some((i) => i.specifier === "@ory/client" && i.file.endsWith("admin.ts"))).toBe(true);
  });

  it("every import follows the direction core ← config, kratos ← http, gateway, backfill ← cli, adapters", () => {
    expect(imports.map(violationOf).filter((v) => v !== null)).toEqual([]);
  });

  it("the Worker-safe entries reach no Node built-in and no Node-only package, however deep", () => {
    const importsByFile = new Map(files.map((file) => [file, imports.filter((i) => i.file === file)]));
    for (const entry of WORKER_SAFE_ENTRIES) {
      const reached = reachableFrom(join(SRC, entry), importsByFile);
      expect(reached.length, entry).toBeGreaterThan(50);
      const nodeOnly = reached.filter(
        (i) =>
          !i.typeOnly &&
          (i.specifier.startsWith("node:") || NODE_ONLY_PACKAGES.some((p) => i.specifier === p || i.specifier.startsWith(`${p}/`))),
      );
      expect(nodeOnly.map((i) => `${entry} reaches ${relative(ROOT, i.file)}:${i.line} importing ${i.specifier}`)).toEqual([]);
    }
    // The Node entry does reach them: the walk follows imports all the way.
    const fromNode = reachableFrom(join(SRC, "node.ts"), importsByFile);
    expect(fromNode.some((i) => i.specifier === "pino")).toBe(true);
  });

  it("refuses the imports the rules forbid", () => {
    const at = (dir: string, specifier: string, typeOnly = false) => ({ file: join(SRC, dir, "x.ts"), line: 1, specifier, typeOnly });
    expect(violationOf(at("core", "../config/schema.js", true))).toMatch(/core may import only itself/);
    expect(violationOf(at("core/policies", "../../http/app.js"))).toMatch(/core may import only itself/);
    expect(violationOf(at("kratos", "../config/schema.js", true))).toMatch(/kratos may import only core, validation/);
    expect(violationOf(at("http", "../config/parse.js"))).toMatch(/may import only types from config/);
    expect(violationOf(at("http", "../adapters/node.js"))).toMatch(/http may import only/);
    expect(violationOf(at("cli", "../adapters/node.js"))).toMatch(/cli may import only/);
    expect(violationOf(at("cli", "../adapters/redis-shield-store.js"))).toBeNull();
    expect(violationOf(at("cli", "../adapters/node-service.js"))).toMatch(/cli may import only/);
    expect(violationOf(at("cli", "ioredis"))).toMatch(/ioredis belongs to adapters/);
    expect(violationOf(at("gateway", "node:fs"))).toMatch(/workerd/);
    expect(violationOf(at("core", "pino"))).toMatch(/pino belongs to adapters/);
    expect(violationOf(at("core", "../../schemas/default.schema.json"))).toMatch(/outside src/);
    expect(violationOf(at("adapters", "../http/app.js"))).toBeNull();
    expect(violationOf(at("core", "../index.js"))).toMatch(/core may import only itself/);
    expect(violationOf(at("http", "../worker.js"))).toMatch(/http may import only/);
    expect(violationOf(at("testing", "../http/app.js"))).toBeNull();
    expect(violationOf(at("testing", "../adapters/node-logger.js"))).toMatch(/testing may import only/);
    expect(violationOf(at("testing", "node:fs"))).toMatch(/workerd/);
    const main = (specifier: string) => ({ file: join(SRC, "adapters", "node.ts"), line: 1, specifier, typeOnly: false });
    expect(violationOf(main("./node-service.js"))).toMatch(/mains import only the public entries/);
    expect(violationOf(main("../node.js"))).toBeNull();
    expect(violationOf(at("config", "../../schemas/default.schema.json"))).toBeNull();
  });
});
