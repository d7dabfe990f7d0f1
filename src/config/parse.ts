import type { z } from "zod";
import { isJsonObject } from "../core/json.js";
import { valueAtPath, withoutZodPrefix } from "../validation/zod-issues.js";
import { type Config, configSchema } from "./schema.js";

/**
 * An operator's mistake in configuration: the message names the key, what was expected and what was found.
 *
 * ```ts
 * import { ConfigError, parseConfig } from "kratos-hooks";
 * try { parseConfig(JSON.parse(text)); }
 * catch (error) { if (error instanceof ConfigError) console.error(error.message); else throw error; }
 * ```
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 80 ? `${json.slice(0, 77)}…` : json;
}

// biome-ignore lint/suspicious/noExplicitAny: walking zod's public `def` tree, whose node types vary.
type AnySchema = any;

/** The keys an object schema at `path` accepts, to suggest the intended one for a typo. */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let node: AnySchema = configSchema;
  const unwrap = () => {
    while (node?.def?.innerType !== undefined || node?.def?.in !== undefined) node = node.def.innerType ?? node.def.in;
  };
  for (const key of path) {
    unwrap();
    if (node?.def?.type === "array") node = node.def.element;
    else if (node?.def?.type === "record") node = node.def.valueType;
    else node = node?.def?.shape?.[key as string];
    if (typeof key === "number") unwrap();
  }
  unwrap();
  return node?.def?.type === "object" ? Object.keys(node.def.shape) : [];
}

/** Levenshtein distance ignoring case: how far a typed key is from a known one, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j] ?? 0;
      row[j] = Math.min(current + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length] ?? 0;
}

function formatIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
  const where = issue.path.length === 0 ? "(top level)" : issue.path.join(".");
  if (issue.code === "unrecognized_keys") {
    const known = knownKeysAt(issue.path);
    return issue.keys.map((key) => {
      const guess = known.find((k) => editDistance(k, key) <= 2);
      const hint = guess === undefined ? `expected one of: ${known.join(", ")}` : `did you mean "${guess}"?`;
      return `${issue.path.length === 0 ? key : `${where}.${key}`}: unknown key (${hint})`;
    });
  }
  const expected = withoutZodPrefix(issue.message).replace(/, received \w+$/, "");
  const found = "input" in issue && issue.input !== undefined ? issue.input : valueAtPath(input, issue.path);
  return [`${where}: ${expected}, found ${describe(found)}`];
}

/** Validates a raw configuration object. Throws `ConfigError` with one line per problem. */
export function parseConfig(raw: unknown, source: string): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.flatMap((issue) => formatIssue(issue, raw));
  throw new ConfigError(`Invalid configuration in ${source}:\n  ${lines.join("\n  ")}`);
}

/**
 * Objects merge key by key; anything else (arrays included) is replaced. Identity schemas are
 * documents, not settings: each one is replaced whole.
 */
export function mergeConfig(base: unknown, override: unknown, path = ""): unknown {
  if (!isJsonObject(base) || !isJsonObject(override)) return override;
  if (path === "identitySchemas") return { ...base, ...override };
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = mergeConfig(base[key], value, path === "" ? key : `${path}.${key}`);
  return merged;
}

function parseJSON(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`Invalid configuration in ${source}: expected JSON, found a parse error (${(error as Error).message})`);
  }
}

export interface ConfigSources {
  /** `HOOKS_CONFIG_FILE`: its path, its absolute `file:` URL and its contents. */
  file?: { path: string; url: URL; text: string } | undefined;
  /** `HOOKS_CONFIG`: inline JSON. */
  inline?: string | undefined;
  /** Reads a schema file named in `identitySchemas` (Node only; Workers inline their schemas). */
  readFile?: ((url: URL) => string) | undefined;
  /** Where paths in inline JSON are resolved from: the working directory, as a `file:` URL ending in `/`. */
  cwd?: URL | undefined;
}

/**
 * Replaces `identitySchemas` values given as a path or `file://` URL by the JSON they name.
 * Paths resolve from the config file's directory (inline JSON: the working directory), and
 * Kratos's own `file://./x.json` form is read as the relative path `./x.json`.
 */
function readSchemaFiles(raw: unknown, base: URL | undefined, sources: ConfigSources, source: string): unknown {
  if (!isJsonObject(raw) || !isJsonObject(raw.identitySchemas)) return raw;
  const fail = (id: string, message: string) => new ConfigError(`Invalid configuration in ${source}:\n  identitySchemas.${id}: ${message}`);
  const schemas: Record<string, unknown> = {};
  for (const [id, value] of Object.entries(raw.identitySchemas)) {
    if (typeof value !== "string") {
      schemas[id] = value;
      continue;
    }
    if (sources.readFile === undefined || base === undefined) {
      throw fail(id, `expected an inline JSON Schema object (file references need the Node runtime), found ${describe(value)}`);
    }
    const relative = value.replace(/^file:\/\/(?=\.\.?\/)/, "");
    let url: URL;
    try {
      url = new URL(relative, base);
    } catch {
      throw fail(id, `expected a path or a file:// URL, found ${describe(value)}`);
    }
    if (url.protocol !== "file:") throw fail(id, `expected a path or a file:// URL, found ${describe(value)}`);
    let text: string;
    try {
      text = sources.readFile(url);
    } catch (error) {
      throw fail(
        id,
        `expected a readable JSON file, found ${(error as { code?: string }).code ?? "an error"} for ${decodeURIComponent(url.pathname)}`,
      );
    }
    try {
      schemas[id] = JSON.parse(text);
    } catch {
      throw fail(id, `expected JSON, found a parse error in ${decodeURIComponent(url.pathname)}`);
    }
  }
  return { ...raw, identitySchemas: schemas };
}

/** Defaults ← file ← inline JSON, then validation. */
export function loadConfig(sources: ConfigSources): Config {
  const names: string[] = [];
  let raw: unknown = {};
  if (sources.file !== undefined) {
    const name = `HOOKS_CONFIG_FILE (${sources.file.path})`;
    names.push(name);
    raw = mergeConfig(raw, readSchemaFiles(parseJSON(sources.file.text, name), sources.file.url, sources, name));
  }
  if (sources.inline !== undefined && sources.inline.trim() !== "") {
    names.push("HOOKS_CONFIG");
    raw = mergeConfig(raw, readSchemaFiles(parseJSON(sources.inline, "HOOKS_CONFIG"), sources.cwd, sources, "HOOKS_CONFIG"));
  }
  if (!isJsonObject(raw)) {
    throw new ConfigError(`Invalid configuration in ${names.join(" + ")}: expected a JSON object, found ${describe(raw)}`);
  }
  return parseConfig(raw, names.length === 0 ? "the defaults" : names.join(" + "));
}
