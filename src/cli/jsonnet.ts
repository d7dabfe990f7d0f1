import { createRequire } from "node:module";
/**
 * Renders a hook body template the way Kratos does (`request/builder.go` `addJSONBody`): the
 * ctx is the top-level argument `ctx`, an error whose text holds `RUNTIME ERROR: cancel` means
 * "send nothing", and imports are unavailable (Kratos's `ErrorImporter`).
 *
 * The engine is the C++ Jsonnet as a Node addon (@hanazuki/node-jsonnet), an optional
 * dependency of the CLI only: the service and the Worker never load it.
 */
export type Rendered = { kind: "body"; value: unknown } | { kind: "cancel" } | { kind: "error"; message: string };

interface JsonnetVM {
  tlaCode(key: string, value: string): JsonnetVM;
  evaluateSnippet(snippet: string, filename?: string): Promise<string>;
}
interface JsonnetModule {
  Jsonnet: new () => JsonnetVM;
}

/** The engine is missing: the optional dependency did not build on this machine. */
export class JsonnetUnavailableError extends Error {
  override name = "JsonnetUnavailableError";
}

const ENGINE = "@hanazuki/node-jsonnet";
let engine: JsonnetModule | undefined;

/**
 * Loaded with `require`, not `import()`: on Node 20 an `import()` of a CommonJS module that
 * throws while loading (the addon installed but not built: "Could not locate the bindings file")
 * ends the process even with a `.catch`, where a `require` in try/catch does not.
 */
function loadEngine(): Promise<JsonnetModule> {
  try {
    engine ??= createRequire(import.meta.url)(ENGINE) as JsonnetModule;
    return Promise.resolve(engine);
  } catch (error) {
    return Promise.reject(
      new JsonnetUnavailableError(
        `the Jsonnet engine ${ENGINE} is not installed or not built (${(error as Error).message.split("\n")[0]}). ` +
          `It is an optional dependency built from source at install (needs cmake and a C++ compiler; npm 11 runs its ` +
          `install script only when package.json's allowScripts allows it): run \`npm install ${ENGINE}\` and read its build output.`,
      ),
    );
  }
}

const NOWHERE = "/nonexistent/kratos-hooks-no-imports/";

/** Jsonnet source without its comments and string literals, so keywords can be found. */
function codeOnly(source: string): string {
  return source.replace(
    /\/\*[\s\S]*?\*\/|(?:\/\/|#)[^\n]*|\|\|\|[\s\S]*?\|\|\||@'(?:[^']|'')*'|@"(?:[^"]|"")*"|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g,
    " ",
  );
}

/**
 * Kratos's go-jsonnet importer refuses every import ("import not available"). The C++ engine
 * would read files, so a template that imports is refused before it is evaluated.
 */
function findImport(source: string): string | undefined {
  return /\bimport(?:str|bin)?\b/.exec(codeOnly(source))?.[0];
}

export async function renderTemplate(source: string, name: string, ctx: unknown): Promise<Rendered> {
  const { Jsonnet } = await loadEngine();
  const imported = findImport(source);
  if (imported !== undefined) return { kind: "error", message: `${imported} is not available: Kratos evaluates templates without imports` };
  const vm = new Jsonnet().tlaCode("ctx", JSON.stringify(ctx));
  let output: string;
  try {
    output = await vm.evaluateSnippet(source, `${NOWHERE}${name.split("/").pop() ?? "template.jsonnet"}`);
  } catch (error) {
    const message = (error as Error).message;
    if (message.includes("RUNTIME ERROR: cancel")) return { kind: "cancel" };
    return { kind: "error", message: message.replaceAll(NOWHERE, "").trim() };
  }
  return { kind: "body", value: JSON.parse(output) };
}
