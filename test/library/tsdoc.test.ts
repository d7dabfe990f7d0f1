// Every name the public entries export carries a TSDoc comment where it is declared: the API
// reference is the comments an editor shows, so an export without one is a gap in the docs.
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");
const ENTRIES = ["index.ts", "node.ts", "worker.ts", "testing.ts"];

interface Exported {
  name: string;
  file: string;
}

/** `export { a, type B, c as d } from "./x.js"` and `export function|interface|type|const|class` of an entry. */
function exportsOf(entry: string): Exported[] {
  const path = join(SRC, entry);
  const text = readFileSync(path, "utf8");
  const found: Exported[] = [];
  for (const match of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s+from\s+"([^"]+)"/g)) {
    const file = join(dirname(path), (match[2] ?? "").replace(/\.js$/, ".ts"));
    for (const part of (match[1] ?? "").split(",")) {
      const original = part
        .trim()
        .replace(/^type\s+/, "")
        .split(/\s+as\s+/)[0];
      if (original) found.push({ name: original, file });
    }
  }
  for (const match of text.matchAll(/^export\s+(?:declare\s+)?(?:async\s+)?(?:function|interface|type|const|class)\s+(\w+)/gm)) {
    found.push({ name: match[1] ?? "", file: path });
  }
  return found;
}

/** The `/** … *\/` comment right above the declaration of `name` in `file`, or null when there is none. */
function commentOf({ name, file }: Exported): string | null {
  const lines = readFileSync(file, "utf8").split("\n");
  const at = lines.findIndex((line) =>
    new RegExp(`^export\\s+(?:declare\\s+)?(?:async\\s+)?(?:function|interface|type|const|class)\\s+${name}\\b`).test(line),
  );
  if (at < 0) throw new Error(`${name}: no declaration in ${relative(SRC, file)}`);
  if (!/\*\/\s*$/.test(lines[at - 1] ?? "")) return null;
  const start = lines.slice(0, at).findLastIndex((line) => /^\s*\/\*\*/.test(line));
  return lines.slice(start, at).join("\n");
}

/** Whether `name` is declared as a value (function, class or const) in `file`; types and interfaces are exempt from the example rule. */
function isValue({ name, file }: Exported): boolean {
  return new RegExp(`^export\\s+(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?(?:function|class|const)\\s+${name}\\b`, "m").test(
    readFileSync(file, "utf8"),
  );
}

function documented(exported: Exported): boolean {
  return commentOf(exported) !== null;
}

describe("the public API's reference", () => {
  const all = ENTRIES.flatMap(exportsOf);

  it("reads the entries' exports (a parser that finds nothing would pass anything)", () => {
    expect(all.length).toBeGreaterThan(40);
    expect(all.map((e) => e.name)).toEqual(expect.arrayContaining(["definePolicy", "createWorker", "serve", "GatewayRule", "Decision"]));
  });

  it("every export has a TSDoc comment where it is declared", () => {
    expect(all.filter((e) => !documented(e)).map((e) => `${e.name} (${relative(SRC, e.file)})`)).toEqual([]);
  });

  it("every export of kratos-hooks/testing shows an example in its comment (the entry is read from tests)", () => {
    const testing = exportsOf("testing.ts");
    expect(testing.map((e) => e.name)).toEqual(expect.arrayContaining(["hookCtx", "runPolicy", "callHook", "Verdict"]));
    expect(testing.filter((e) => !commentOf(e)?.includes("```")).map((e) => e.name)).toEqual([]);
  });

  it("every value export (function, class, const) of every public entry shows a fenced example", () => {
    const values = all.filter(isValue);
    expect(values.length).toBeGreaterThan(30);
    expect(values.map((e) => e.name)).toEqual(
      expect.arrayContaining(["definePolicy", "ConfigError", "HOOK_IDS", "ShieldCounters", "serve"]),
    );
    expect(values.filter((e) => !commentOf(e)?.includes("```")).map((e) => `${e.name} (${relative(SRC, e.file)})`)).toEqual([]);
  });
});
