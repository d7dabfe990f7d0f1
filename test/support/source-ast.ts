/**
 * src/'s TypeScript files parsed (with @babel/parser: TypeScript 7's compiler has no JS API), for
 * the structure tests (test/architecture/one-home.test.ts) and `npm run code-size`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parse } from "@babel/parser";

/** A node as @babel/parser gives it: its type, where it is, and its fields. */
export interface AstNode {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  readonly loc: { readonly start: { readonly line: number }; readonly end: { readonly line: number } };
  readonly [field: string]: unknown;
}

export interface SourceFile {
  /** The path from the repository's root, with forward slashes: `src/core/json.ts`. */
  readonly path: string;
  readonly text: string;
  readonly program: AstNode;
}

/** Generated data, not code: the shipped example contexts embedded as text. */
const GENERATED = new Set(["src/testing/examples.ts"]);

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

export function isNode(value: unknown): value is AstNode {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

/** Every .ts file under `root`, parsed; `withGenerated` includes src/testing/examples.ts. */
export function sourceFiles(root = "src", { withGenerated = false } = {}): SourceFile[] {
  return tsFiles(root)
    .map((file) => relative(process.cwd(), file).split("\\").join("/"))
    .filter((path) => withGenerated || !GENERATED.has(path))
    .map((path) => {
      const text = readFileSync(path, "utf8");
      const ast = parse(text, { sourceType: "module", plugins: ["typescript"] });
      return { path, text, program: ast.program as unknown as AstNode };
    });
}

/** Calls `visit` on every node below `node` (itself included), with its parent. */
export function walk(node: AstNode, visit: (node: AstNode, parent: AstNode | undefined) => void, parent?: AstNode): void {
  visit(node, parent);
  for (const [key, child] of Object.entries(node)) {
    if (key === "loc" || key === "leadingComments" || key === "trailingComments" || key === "innerComments") continue;
    for (const item of Array.isArray(child) ? child : [child]) if (isNode(item)) walk(item, visit, node);
  }
}

/** The source text of a node. */
export function textOf(file: SourceFile, node: AstNode): string {
  return file.text.slice(node.start, node.end);
}
