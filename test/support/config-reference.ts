// The docs generator for docs/configuration.md's key table (npm run docs:config, test/docs.test.ts): test tooling, never shipped.
import { z } from "zod";
import { configSchema } from "../../src/config/schema.js";

/** The markers in docs/configuration.md between which the key table is generated. */
export const CONFIG_KEYS_START = "<!-- config-keys:start -->";
export const CONFIG_KEYS_END = "<!-- config-keys:end -->";

/** The JSON Schema subset zod emits for our config (input side: what an operator writes). */
interface JsonSchemaNode {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchemaNode[];
  items?: JsonSchemaNode;
  properties?: Record<string, JsonSchemaNode>;
  additionalProperties?: boolean | JsonSchemaNode;
  minimum?: number;
  maximum?: number;
  description?: string;
}

/** One row of the key table. */
export interface ConfigKeyRow {
  path: string;
  type: string;
  default: unknown;
  description: string;
}

/** Defaults longer than this are shown below the table instead of in a cell. */
const INLINE_DEFAULT_MAX = 40;

function toTypeName(node: JsonSchemaNode): string {
  if (node.anyOf !== undefined) return node.anyOf.map(toTypeName).join(" or ");
  if (Array.isArray(node.type)) return node.type.join(" or ");
  if (node.enum !== undefined) {
    return node.enum.length <= 3 ? node.enum.map((value) => `\`${JSON.stringify(value)}\``).join(" or ") : "enum";
  }
  if (node.type === "array") return `${node.items === undefined ? "unknown" : toTypeName(node.items)}[]`;
  if (node.type === "object") return node.properties === undefined ? "map" : "object";
  if (node.type === "integer" && node.minimum !== undefined && node.maximum !== undefined) {
    return `integer ${node.minimum}–${node.maximum}`;
  }
  return node.type ?? "unknown";
}

/** A group of keys (an object with named properties) is not a row: its keys are. */
function isGroup(node: JsonSchemaNode): boolean {
  return node.type === "object" && node.properties !== undefined;
}

function valueAt(root: unknown, path: string[]): unknown {
  let value = root;
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
  return value;
}

/**
 * Every configuration key, in schema order: its dotted path, its type as an operator writes it,
 * its default (taken from parsing `{}`, so it is the value the service really uses) and its
 * description (`.describe()` in src/config/). Throws when a key has no description.
 */
export function toConfigKeyRows(schema: z.ZodType = configSchema): ConfigKeyRow[] {
  const root = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchemaNode;
  const defaults = schema.parse({});
  const rows: ConfigKeyRow[] = [];
  const walk = (node: JsonSchemaNode, path: string[]) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const at = [...path, key];
      if (isGroup(child)) {
        walk(child, at);
        continue;
      }
      if (child.description === undefined || child.description.trim() === "") {
        throw new Error(`config key ${at.join(".")} has no description: add .describe("…") to it in src/config/`);
      }
      rows.push({ path: at.join("."), type: toTypeName(child), default: valueAt(defaults, at), description: child.description });
    }
  };
  walk(root, []);
  return rows;
}

const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");
const code = (text: string) => `\`${text}\``;

function isLong(value: unknown): boolean {
  return JSON.stringify(value).length > INLINE_DEFAULT_MAX;
}

function toDefaultCell(row: ConfigKeyRow): string {
  const { default: value } = row;
  if (!isLong(value)) return code(JSON.stringify(value));
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    return Object.keys(value).map(code).join(", ");
  }
  return "below";
}

/** JSON on one line, spaced as the formatter (Biome) writes it: `{ "a": [1, 2] }`. */
function toInlineJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(toInlineJson).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const members = Object.entries(value).map(([key, member]) => `${JSON.stringify(key)}: ${toInlineJson(member)}`);
    return members.length === 0 ? "{}" : `{ ${members.join(", ")} }`;
  }
  return JSON.stringify(value);
}

/** A long array default, one element a line, as an operator would paste it. */
function toDefaultBlock(row: ConfigKeyRow): string {
  const elements = (row.default as unknown[]).map((element) => `  ${toInlineJson(element)}`);
  return [`Default of ${code(row.path)}:`, "", "```json", "[", elements.join(",\n"), "]", "```"].join("\n");
}

/**
 * The Markdown that goes between the markers of docs/configuration.md: the key table, then the
 * defaults too long for it. Pure: `npm run docs:config` writes it, test/docs.test.ts compares it.
 */
export function toConfigReference(schema: z.ZodType = configSchema): string {
  const rows = toConfigKeyRows(schema);
  const table = [
    "| Key | Type | Default | Description |",
    "| --- | --- | --- | --- |",
    ...rows.map((row) => `| ${code(row.path)} | ${cell(row.type)} | ${cell(toDefaultCell(row))} | ${cell(row.description)} |`),
  ].join("\n");
  const blocks = rows.filter((row) => Array.isArray(row.default) && isLong(row.default)).map(toDefaultBlock);
  return [table, ...blocks].join("\n\n");
}

/** `page` with the text between the config-keys markers replaced by `generated`. */
export function replaceConfigReference(page: string, generated: string): string {
  const start = page.indexOf(CONFIG_KEYS_START);
  const end = page.indexOf(CONFIG_KEYS_END);
  if (start === -1 || end < start) throw new Error(`expected ${CONFIG_KEYS_START} … ${CONFIG_KEYS_END} in the page`);
  return `${page.slice(0, start + CONFIG_KEYS_START.length)}\n\n${generated}\n\n${page.slice(end)}`;
}

/** The text between the config-keys markers of `page`. */
export function readConfigReference(page: string): string {
  const start = page.indexOf(CONFIG_KEYS_START);
  const end = page.indexOf(CONFIG_KEYS_END);
  if (start === -1 || end < start) throw new Error(`expected ${CONFIG_KEYS_START} … ${CONFIG_KEYS_END} in the page`);
  return page.slice(start + CONFIG_KEYS_START.length, end).trim();
}

/**
 * The page text as a comparison sees it: table cells trimmed and separator rows reduced, so the
 * padding a Markdown formatter adds never counts as a difference.
 */
export function normalizeMarkdown(text: string): string {
  return text
    .trim()
    .split("\n")
    .map((line) => {
      if (!line.startsWith("|")) return line.trimEnd();
      const cells = line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim());
      return `|${cells.map((c) => (/^:?-+:?$/.test(c) ? "---" : c)).join("|")}|`;
    })
    .join("\n");
}
