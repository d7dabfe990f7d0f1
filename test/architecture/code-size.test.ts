import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FILE_LIMIT, FUNCTION_LIMIT, measure } from "../support/code-size.js";

// docs/design.md: no file in src/ over 300 lines, no function over 80 (its whole span, nested
// functions included). `npm run code-size -- --all` prints the maxima and everything over.
describe("code size (npm run code-size)", () => {
  const { files, functions } = measure();

  it(`no file in src/ is over ${FILE_LIMIT} lines`, () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((f) => f.lines > FILE_LIMIT)).toEqual([]);
  });

  it(`no function in src/ is over ${FUNCTION_LIMIT} lines`, () => {
    expect(functions.length).toBeGreaterThan(500);
    expect(functions.filter((f) => f.lines > FUNCTION_LIMIT)).toEqual([]);
  });

  it("counts a file's lines and a function's whole span, nested functions included", () => {
    const dir = mkdtempSync(join(tmpdir(), "code-size-"));
    const lines = [
      "export function outer() {", // 1: outer is lines 1-9
      "  const inner = () => {", // 2: inner is lines 2-5
      "    const a = 1;",
      "    return a;",
      "  };",
      "  return inner;",
      "",
      "  // a comment",
      "}",
      "class A {",
      "  m() {", // 11: m is lines 11-13
      "    return 1;",
      "  }",
      "}",
    ];
    writeFileSync(join(dir, "a.ts"), `${lines.join("\n")}\n`);
    try {
      const { files, functions } = measure(dir);
      expect(files.map((f) => f.lines)).toEqual([14]);
      expect(functions.map((f) => [f.where.replace(/^.*a\.ts/, "a.ts"), f.lines])).toEqual([
        ["a.ts:1 outer", 9],
        ["a.ts:2 inner", 4],
        ["a.ts:11 m", 3],
      ]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
