import { readdirSync, readFileSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { stringify } from "yaml";
import { checkIdentitySchema } from "../core/identity-schema-rules.js";
import { isJsonObject } from "../core/json.js";
import { finding, type Problem } from "./doctor-finding.js";
import { fetchKratosURL, type KratosConfig } from "./kratos-config.js";
import { UsageError } from "./usage.js";

/**
 * Records a finding; `file` defaults to kratos.yml. Returns false when the finding does not hold
 * for the judged Kratos release (its `acceptedFrom` is that release or an earlier one).
 */
export type AddFinding = (problem: Problem, file?: string) => boolean;

/**
 * One schema document read from `file`: JSON, then the one checker's rules. Returns the
 * document when it is clean. `label` names the schema in each message.
 */
function checkSchemaText(text: string, file: string, label: string | undefined, add: AddFinding): unknown {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    add(
      {
        code: "schema-not-json",
        effect: "refuses_to_start",
        path: "#",
        message: `${label ?? "the schema"} is not JSON (${(error as Error).message}): Kratos refuses to start`,
        fix: "fix the JSON syntax",
      },
      file,
    );
    return undefined;
  }
  let kept = 0;
  for (const problem of checkIdentitySchema(document)) {
    if (add({ ...problem, message: label === undefined ? problem.message : `${label}: ${problem.message}` }, file)) kept++;
  }
  // A broken schema is reported once; comparing it with our copy would only repeat that.
  return kept === 0 ? document : undefined;
}

/** One entry of identity.schemas: its id and url, then the document the url points at. */
function checkSchemaEntry(cwd: string, entry: unknown, i: number, declared: Map<string, unknown>, add: AddFinding) {
  const at = ["identity", "schemas", i];
  if (!isJsonObject(entry) || typeof entry.id !== "string" || typeof entry.url !== "string") {
    if (isJsonObject(entry) && typeof entry.id === "string") declared.set(entry.id, undefined);
    add(
      finding({
        code: "schema-entry-incomplete",
        effect: "refuses_to_start",
        at,
        message: "a schema entry needs a string id and url: Kratos refuses to start",
        fix: "write - id: <id>\n  url: file://<path>",
      }),
    );
    return;
  }
  if (declared.has(entry.id)) {
    add(
      finding({
        code: "duplicate-schema-id",
        effect: "fails_at_runtime",
        at: [...at, "id"],
        message: `schema id "${entry.id}" is declared twice: Kratos starts, but uses only one of the two for identities with this id`,
        fix: "give each schema in identity.schemas its own id",
      }),
    );
  }
  const fetched = fetchKratosURL(entry.url, cwd);
  if (!fetched.ok) {
    const remote = /^https?:\/\//.test(entry.url);
    add(
      finding({
        code: remote ? "schema-remote" : "schema-unreadable",
        effect: remote ? "warning" : "refuses_to_start",
        at: [...at, "url"],
        message: remote
          ? `${entry.url} is not checked (no network access here)`
          : `schema "${entry.id}": ${fetched.why}, so Kratos refuses to start; relative file:// URLs resolve from Kratos's working directory, assumed to be ${cwd}`,
        fix: remote
          ? "run the doctor where the url is reachable, or check the file locally with --schemas"
          : "start Kratos from the directory the url is relative to, or pass that directory with --cwd, or fix the path",
      }),
    );
    declared.set(entry.id, undefined);
    return;
  }
  declared.set(entry.id, checkSchemaText(fetched.text, fetched.where, `schema "${entry.id}"`, add));
}

/** Keys of `identity` that a config may have put at its top level instead. */
const IDENTITY_KEYS = ["default_schema_id", "schemas"] as const;

/** The identity keys written at the top level, where Kratos does not look for them. */
function topLevelIdentityKeys(data: Record<string, unknown>): string[] {
  return IDENTITY_KEYS.filter((key) => data[key] !== undefined);
}

/**
 * The identity section to write, in the config file's own syntax (JSON for a `.json` file, else
 * YAML), built from the user's values: the top-level `schemas` and `default_schema_id`, or the
 * URL that `identity` was given as. Only what the file lacks is filled in: `default` is Kratos's
 * default id, and `file://<path>` a placeholder.
 */
function identitySnippet(kratos: KratosConfig): string {
  const { data } = kratos;
  const listed = Array.isArray(data.schemas) && data.schemas.length > 0 ? data.schemas : undefined;
  const url = typeof data.identity === "string" && data.identity !== "" ? data.identity : "file://<path>";
  const schemas = listed ?? [{ id: "default", url }];
  const firstId = schemas.map((s) => (isJsonObject(s) ? s.id : undefined)).find((id) => typeof id === "string");
  const identity = { default_schema_id: data.default_schema_id ?? firstId ?? "default", schemas };
  if (extname(kratos.file).toLowerCase() !== ".json") return stringify({ identity }).trimEnd();
  const entry = (s: unknown) =>
    isJsonObject(s)
      ? `{ ${Object.entries(s)
          .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
          .join(", ")} }`
      : JSON.stringify(s);
  return [
    '"identity": {',
    `  "default_schema_id": ${JSON.stringify(identity.default_schema_id)},`,
    '  "schemas": [',
    schemas.map((s) => `    ${entry(s)}`).join(",\n"),
    "  ]",
    "}",
  ].join("\n");
}

/**
 * What to write for a missing or malformed identity section (`replace` names what the new
 * section replaces, if anything), saying where misplaced top-level keys go.
 */
function identityFix(kratos: KratosConfig, replace: string): string {
  const misplaced = topLevelIdentityKeys(kratos.data);
  const move =
    misplaced.length === 0
      ? `write identity as below, replacing ${replace}`
      : `move the top-level ${misplaced.join(" and ")} under identity (Kratos reads them only there)${replace === "" ? "" : `, replacing ${replace}`}`;
  return `${move}:\n${identitySnippet(kratos)}`;
}

/** "; the top-level default_schema_id and schemas belong under identity…" when the file has them there. */
function misplacedNote(data: Record<string, unknown>): string {
  const misplaced = topLevelIdentityKeys(data);
  if (misplaced.length === 0) return "";
  return `; the top-level ${misplaced.join(" and ")} ${misplaced.length === 1 ? "belongs" : "belong"} under identity, where Kratos reads ${misplaced.length === 1 ? "it" : "them"}`;
}

/**
 * kratos.yml's identity section and each schema document it names. Returns the declared ids,
 * each with its document when the document is clean.
 */
export function checkIdentity(kratos: KratosConfig, cwd: string, add: AddFinding): Map<string, unknown> {
  const declared = new Map<string, unknown>();
  const identity = kratos.data.identity;
  if (identity === undefined) {
    add({
      code: "identity-missing",
      effect: "refuses_to_start",
      path: "identity",
      message: `${basename(kratos.file)} has no identity section: Kratos refuses to start (identity.schemas is required)${misplacedNote(kratos.data)}`,
      fix: topLevelIdentityKeys(kratos.data).length === 0 ? "add identity.schemas with at least one {id, url}" : identityFix(kratos, ""),
    });
    return declared;
  }
  if (!isJsonObject(identity)) {
    add(
      finding({
        code: "identity-not-object",
        effect: "refuses_to_start",
        at: ["identity"],
        message: `identity is written as a ${Array.isArray(identity) ? "list" : typeof identity} (${JSON.stringify(identity)}): Kratos refuses to start, it expects ${extname(kratos.file).toLowerCase() === ".json" ? "an object" : "a mapping"} with default_schema_id and schemas${misplacedNote(kratos.data)}`,
        fix: identityFix(kratos, `the ${Array.isArray(identity) ? "list" : typeof identity} given now`),
      }),
    );
    return declared;
  }
  const schemas = identity.schemas;
  if (!Array.isArray(schemas) || schemas.length === 0) {
    add(
      finding({
        code: "schemas-missing",
        effect: "refuses_to_start",
        at: ["identity", "schemas"],
        message: "identity.schemas is missing or empty: Kratos refuses to start (it needs at least one identity schema)",
        fix:
          Array.isArray(kratos.data.schemas) && kratos.data.schemas.length > 0
            ? "move the top-level schemas under identity: they belong in identity.schemas"
            : "list each schema under identity.schemas as - id: <id>\n  url: file://<path>",
      }),
    );
    return declared;
  }
  schemas.forEach((entry, i) => {
    checkSchemaEntry(cwd, entry, i, declared, add);
  });
  const defaultId = identity.default_schema_id ?? "default";
  if (typeof defaultId !== "string" || !declared.has(defaultId)) {
    add(
      finding({
        code: "default-schema-unknown",
        effect: "fails_at_runtime",
        at: ["identity", "default_schema_id"],
        message: `default_schema_id is ${JSON.stringify(defaultId)}${identity.default_schema_id === undefined ? " (Kratos's default)" : ""}, which no schema in identity.schemas has (${[...declared.keys()].join(", ")}): Kratos starts, but cannot find the schema for new identities`,
        fix: "set identity.default_schema_id to one of the declared ids, or declare that schema",
      }),
    );
  }
  return declared;
}

/** `--schemas <dir>`: every `*.json` in a folder, as identity schemas. */
export function checkSchemaFolder(dir: string, add: AddFinding): void {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .sort();
  } catch (error) {
    throw new UsageError(`cannot read --schemas ${dir} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  for (const name of names) {
    const file = join(dir, name);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      add(
        {
          code: "schema-unreadable",
          effect: "refuses_to_start",
          path: "#",
          message: `${name} cannot be read (${code}): Kratos refuses to start with a schema it cannot read`,
          fix: "make it a readable JSON file, or move it out of the --schemas folder",
        },
        file,
      );
      continue;
    }
    checkSchemaText(text, file, undefined, add);
  }
}
