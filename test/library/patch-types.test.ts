// The decision types follow what Kratos saves: tsc on a fixture must report an error on exactly
// the lines marked `// type error` (a patch on login-after or a before-hook), and nowhere else.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURE = "test/library/types/patch-helpers.fixture.ts";

function tscErrorLines(): number[] {
  let output = "";
  try {
    execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "test/library/types/tsconfig.json"], {
      cwd: ROOT,
      encoding: "utf8",
    });
  } catch (error) {
    output = String((error as { stdout?: string }).stdout ?? "");
  }
  const lines = [...output.matchAll(/^(.+?)\((\d+),\d+\): error TS\d+/gm)].map((m) => {
    expect(m[1], "an error outside the fixture").toBe(FIXTURE);
    return Number(m[2]);
  });
  return [...new Set(lines)].sort((a, b) => a - b);
}

describe("patch helpers and decisions, typed per hook", () => {
  it("a patch type-checks only on registration-after and settings-after", () => {
    const marked = readFileSync(`${ROOT}${FIXTURE}`, "utf8")
      .split("\n")
      .flatMap((line, i) => (line.trimEnd().endsWith("// type error") ? [i + 1] : []));
    expect(marked.length).toBeGreaterThan(5);
    expect(tscErrorLines()).toEqual(marked);
  });
});
