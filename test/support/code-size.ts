/**
 * `npm run code-size`: the longest source file and the longest function in src/, in lines, with
 * the limits docs/design.md sets (300 per file, 80 per function); test/architecture/code-size.test.ts
 * holds src/ to them. A function's length is its whole span, first line to last, nested functions
 * included; a file's is its line count. `--all` also lists everything over a limit. The embedded
 * example contexts (src/testing/examples.ts, generated data) count as a file like any other.
 */
import { type AstNode, sourceFiles, walk } from "./source-ast.js";

export const FILE_LIMIT = 300;
export const FUNCTION_LIMIT = 80;

export interface Measure {
  readonly where: string;
  readonly lines: number;
}

export interface CodeSize {
  /** Longest first. */
  readonly files: readonly Measure[];
  /** Longest first. */
  readonly functions: readonly Measure[];
}

const FUNCTIONS = new Set([
  "FunctionDeclaration",
  "FunctionExpression",
  "ArrowFunctionExpression",
  "ClassMethod",
  "ClassPrivateMethod",
  "ObjectMethod",
]);

type Named = { id?: { name?: string } | null; key?: { name?: string; value?: unknown } | null };

/** The name a reader would search for: the function's own, else what it is assigned to. */
function nameOf(node: AstNode, parent: AstNode | undefined): string {
  const own = node as Named;
  const holder = (parent ?? {}) as Named;
  for (const named of [own, holder]) {
    const name = named.id?.name ?? named.key?.name ?? named.key?.value;
    if (typeof name === "string") return name;
  }
  return "(anonymous)";
}

/** Every file and function in src/, longest first. */
export function measure(root = "src"): CodeSize {
  const files: Measure[] = [];
  const functions: Measure[] = [];
  for (const file of sourceFiles(root, { withGenerated: true })) {
    files.push({ where: file.path, lines: file.text.split("\n").length - (file.text.endsWith("\n") ? 1 : 0) });
    walk(file.program, (node, parent) => {
      if (!FUNCTIONS.has(node.type)) return;
      const { start, end } = node.loc;
      functions.push({ where: `${file.path}:${start.line} ${nameOf(node, parent)}`, lines: end.line - start.line + 1 });
    });
  }
  const longestFirst = (a: Measure, b: Measure) => b.lines - a.lines;
  return { files: files.sort(longestFirst), functions: functions.sort(longestFirst) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { files, functions } = measure();
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
