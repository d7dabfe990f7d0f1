import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { configSchema } from "../src/config/schema.js";
import { isKratosMessageId, isOurMessageId } from "../src/core/message-ids.js";
import { MESSAGES } from "../src/core/messages.js";
import { REFUSALS } from "../src/gateway/refusals.js";
import { normalizeMarkdown, readConfigReference, toConfigReference } from "./support/config-reference.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const read = (page: string) => readFileSync(join(ROOT, page), "utf8");
/** The pages kept true here: the README, every page of docs/, and the test suites' READMEs. */
const PAGES = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
  "test/bench/README.md",
  "test/e2e/README.md",
];
/** A page's table rows as trimmed cells (the formatter pads them). */
const rowsOf = (page: string) =>
  read(page)
    .split("\n")
    .filter((line) => line.startsWith("|"))
    .map((line) =>
      line
        .split("|")
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
const ROWS = rowsOf("docs/http-api.md");

/** A page without its fenced code blocks (pasted output, shell sessions, JSON). */
function prose(text: string): string[] {
  let fenced = false;
  return text.split("\n").filter((line) => {
    if (line.trimStart().startsWith("```")) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const toAnchor = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replaceAll(" ", "-");
const anchorsOf = (page: string) =>
  prose(read(page))
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => toAnchor(line.replace(/^#+ /, "")));

describe("the docs stay in step with the code", () => {
  it.each(Object.entries(MESSAGES))("docs/http-api.md lists %s with its id and exact text", (key, { id, text }) => {
    expect(ROWS).toContainEqual(expect.arrayContaining([String(id), `\`${key}\``, text]));
  });

  it.each(Object.entries(REFUSALS))("docs/gateway.md lists the refusal %s with its exact reason", (key, reason) => {
    expect(rowsOf("docs/gateway.md")).toContainEqual(expect.arrayContaining([`\`${key}\``, reason]));
  });

  it("message ids are unique and in our block", () => {
    const ids = Object.values(MESSAGES).map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect([id, isOurMessageId(id), isKratosMessageId(id)]).toEqual([id, true, false]);
  });
});

describe("docs/configuration.md's key table is the config schema", () => {
  const page = read("docs/configuration.md");

  it("is what `npm run docs:config` generates from src/config/schema.ts", () => {
    expect(normalizeMarkdown(readConfigReference(page)), "docs/configuration.md is out of date: run `npm run docs:config`").toBe(
      normalizeMarkdown(toConfigReference()),
    );
  });

  it("has a row for each key of the default config", async () => {
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
    const documented = rowsOf("docs/configuration.md").map((row) => row[0]);
    for (const key of keys) expect(documented, key).toContain(`\`${key}\``);
  });

  it("would go stale if a key were added without regenerating, and a key needs a description", () => {
    const added = z.strictObject({ ...configSchema.shape, addedKey: z.boolean().default(false).describe("A key added later.") });
    expect(normalizeMarkdown(toConfigReference(added))).not.toBe(normalizeMarkdown(readConfigReference(page)));
    const undescribed = z.strictObject({ ...configSchema.shape, addedKey: z.boolean().default(false) });
    expect(() => toConfigReference(undescribed)).toThrow(/addedKey has no description/);
  });
});

describe("the pages hold together", () => {
  it.each(PAGES)("every relative link in %s resolves, anchors included", (page) => {
    const links = prose(read(page)).flatMap((line) => [...line.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? ""));
    for (const link of links.filter((target) => !/^[a-z]+:/.test(target))) {
      const [path = "", anchor] = link.split("#");
      const target = path === "" ? page : join(dirname(page), path);
      expect(existsSync(join(ROOT, target)), `${page}: ${link}`).toBe(true);
      if (anchor !== undefined && target.endsWith(".md")) expect(anchorsOf(target), `${page}: ${link}`).toContain(anchor);
    }
  });

  it.each(PAGES)("%s names no machine path (a checkout, a home, a temporary folder)", (page) => {
    expect(read(page)).not.toMatch(/(?<![\w.~/])\/(work|root|home|Users|tmp|private\/var)\//);
  });

  it.each(PAGES)("%s has no prose line over 400 characters", (page) => {
    for (const line of prose(read(page))) expect(line.length, line.slice(0, 80)).toBeLessThanOrEqual(400);
  });

  it("the README is a five-minute read: at most 170 lines, none over 200 characters", () => {
    const lines = read("README.md").trimEnd().split("\n");
    expect(lines.length).toBeLessThanOrEqual(170);
    for (const line of lines) expect(line.length, line.slice(0, 80)).toBeLessThanOrEqual(200);
  });

  it("the README links every page of docs/", () => {
    const readme = read("README.md");
    for (const page of PAGES.filter((name) => name.startsWith("docs/"))) expect(readme).toContain(`](${page})`);
  });

  it("a target the benchmark did not meet is stated with its number and what it means", () => {
    const lines = read("docs/performance.md")
      .split("\n")
      .filter((line) => /missed|not met/i.test(line));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line, line).toMatch(/\d.*(:|because|—)|(:|because|—).*\d/);
  });

  it.each(PAGES)("%s does not promise that every hook answers within budgetMs", (page) => {
    expect(read(page)).not.toMatch(/answers? within `?budgetMs/i);
  });
});
