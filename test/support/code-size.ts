/**
 * `npm run code-size`: the longest source file and the longest function in src/, in lines.
 * docs/design.md sets the limits (300 per file, 80 per function); test/architecture/code-size.test.ts
 * holds src/ to them. A function's length is its whole span, first line to last, nested functions
 * included; a file's is its line count. `--all` lists everything over the limits.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "@babel/parser";

export const FILE_LIMIT = 300;
export const FUNCTION_LIMIT = 80;

export interface Measure {
  readonly where: string;
  readonly lines: number;
}

export interface CodeSize {
  readonly files: readonly Measure[];
  readonly functions: readonly Measure[];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

interface Node {
  readonly type: string;
  readonly loc?: { readonly start: { readonly line: number }; readonly end: { readonly line: number } };
  readonly id?: { readonly name?: string } | null;
  readonly key?: { readonly name?: string; readonly value?: unknown } | null;
}

const FUNCTIONS = new Set([
  "FunctionDeclaration",
  "FunctionExpression",
  "ArrowFunctionExpression",
  "ClassMethod",
  "ClassPrivateMethod",
  "ObjectMethod",
  "TSDeclareMethod",
]);

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

/** The name a reader would search for: the function's own, else what it is assigned to. */
function nameOf(node: Node, parent: Node | undefined): string {
  const own = node.id?.name ?? node.key?.name ?? (typeof node.key?.value === "string" ? node.key.value : undefined);
  if (own !== undefined) return own;
  const holder = parent as { id?: { name?: string }; key?: { name?: string } } | undefined;
  return holder?.id?.name ?? holder?.key?.name ?? "(anonymous)";
}

/** Every file and function in `root` (a folder of .ts files), longest first. */
export function measure(root: string): CodeSize {
  const files: Measure[] = [];
  const functions: Measure[] = [];
  for (const path of sourceFiles(root)) {
    const text = readFileSync(path, "utf8");
    const rel = relative(process.cwd(), path);
    files.push({ where: rel, lines: text.split("\n").length - (text.endsWith("\n") ? 1 : 0) });
    const ast = parse(text, { sourceType: "module", plugins: ["typescript"] });
    const visit = (node: Node, parent: Node | undefined): void => {
      if (FUNCTIONS.has(node.type) && node.loc !== undefined && node.type !== "TSDeclareMethod") {
        const { start, end } = node.loc;
        functions.push({ where: `${rel}:${start.line} ${nameOf(node, parent)}`, lines: end.line - start.line + 1 });
      }
      for (const [key, child] of Object.entries(node)) {
        if (key === "loc" || key === "leadingComments" || key === "trailingComments") continue;
        for (const item of Array.isArray(child) ? child : [child]) if (isNode(item)) visit(item, node);
      }
    };
    visit(ast.program as unknown as Node, undefined);
  }
  const longestFirst = (a: Measure, b: Measure) => b.lines - a.lines;
  return { files: files.sort(longestFirst), functions: functions.sort(longestFirst) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { files, functions } = measure("src");
  const [file, fn] = [files[0], functions[0]];
  if (file === undefined || fn === undefined) throw new Error("no source files under src/");
  console.log(`longest file:     ${file.lines} lines (limit ${FILE_LIMIT})  ${file.where}`);
  console.log(`longest function: ${fn.lines} lines (limit ${FUNCTION_LIMIT})  ${fn.where}`);
  if (process.argv.includes("--all")) {
    for (const f of files.filter((m) => m.lines > FILE_LIMIT)) console.log(`  file ${f.lines}  ${f.where}`);
    for (const f of functions.filter((m) => m.lines > FUNCTION_LIMIT)) console.log(`  function ${f.lines}  ${f.where}`);
  }
  process.exitCode = file.lines > FILE_LIMIT || fn.lines > FUNCTION_LIMIT ? 1 : 0;
}
