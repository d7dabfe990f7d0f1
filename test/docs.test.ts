import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MESSAGES } from "../src/core/messages.js";

const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");
/** The README's table rows as trimmed cells (the formatter pads them). */
const ROWS = README.split("\n")
  .filter((line) => line.startsWith("|"))
  .map((line) =>
    line
      .split("|")
      .slice(1, -1)
      .map((cell) => cell.trim()),
  );

describe("the README stays in step with the code", () => {
  it.each(Object.entries(MESSAGES))("lists %s with its id and exact text", (key, { id, text }) => {
    expect(ROWS).toContainEqual(expect.arrayContaining([String(id), `\`${key}\``, text]));
  });

  it("message ids are unique and in our block", () => {
    const ids = Object.values(MESSAGES).map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id >= 4_100_000 && id <= 4_199_999).toBe(true);
  });
});

describe("every configuration key is documented", () => {
  it("each key of the default config appears in the README's key table", async () => {
    const { parseConfig } = await import("../src/config/parse.js");
    const keys: string[] = [];
    const walk = (node: Record<string, unknown>, prefix: string) => {
      for (const [key, value] of Object.entries(node)) {
        const path = prefix + key;
        if (value !== null && typeof value === "object" && !Array.isArray(value) && key !== "identitySchemas")
          walk(value as Record<string, unknown>, `${path}.`);
        else keys.push(path);
      }
    };
    walk(parseConfig({}, "test"), "");
    expect(keys.length).toBeGreaterThan(20);
    for (const key of keys)
      expect(
        ROWS.map((row) => row[0]),
        key,
      ).toContain(`\`${key}\``);
  });
});
