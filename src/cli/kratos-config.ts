import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { type HookId, isHookId } from "../core/hooks.js";
import { isJsonObject } from "../core/json.js";
import { SELF_SERVICE_FLOWS, type SelfServiceFlow } from "../kratos/self-service.js";
import { PACKAGE_ROOT, UsageError } from "./usage.js";

/** A kratos.yml as read by the CLI: its data and where each key sits in the file. */
export interface KratosConfig {
  file: string;
  data: Record<string, unknown>;
  /** 1-based line of the deepest node of `path` that the file spells out. */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

export class KratosConfigError extends Error {
  override name = "KratosConfigError";
}

/** Reads kratos.yml (YAML with anchors and aliases, as Kratos's loader accepts). */
export function readKratosConfig(file: string): KratosConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new KratosConfigError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    throw new KratosConfigError(`${file} is not valid YAML: ${first?.message.split("\n")[0] ?? "parse error"}`);
  }
  const data = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  if (!isJsonObject(data)) throw new KratosConfigError(`${file}: expected a YAML mapping at the top level`);
  return {
    file,
    data,
    lineOf(path) {
      for (let i = path.length; i > 0; i--) {
        const node = doc.getIn(path.slice(0, i), true) as { range?: [number, number, number] } | undefined;
        if (node?.range !== undefined) return lines.linePos(node.range[0]).line;
      }
      return undefined;
    },
  };
}

/** One entry of a hook list in kratos.yml. */
export interface HookEntry {
  /** Path from the document root, e.g. selfservice.flows.registration.after.password.hooks[0]. */
  path: (string | number)[];
  flow: SelfServiceFlow;
  when: "before" | "after";
  /** The per-method list it sits in, or null for the flow's own `before`/`after` list. */
  method: string | null;
  /** `hook:` (web_hook, session, …). */
  name: unknown;
  /** `config:` of a web_hook. */
  config: Record<string, unknown> | undefined;
  /** The whole list the entry sits in. */
  list: unknown[];
}

export function pathText(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function get(root: unknown, path: readonly (string | number)[]): unknown {
  let node = root;
  for (const key of path) {
    if (Array.isArray(node) && typeof key === "number") node = node[key];
    else if (isJsonObject(node) && typeof key === "string") node = node[key];
    else return undefined;
  }
  return node;
}

/** Every entry of every hook list under selfservice.flows, in file order. */
export function listHooks(config: Record<string, unknown>): HookEntry[] {
  const entries: HookEntry[] = [];
  for (const flow of SELF_SERVICE_FLOWS) {
    for (const when of ["before", "after"] as const) {
      const base = ["selfservice", "flows", flow, when];
      const section = get(config, base);
      if (!isJsonObject(section)) continue;
      const lists: [string | null, unknown][] = Object.entries(section).map(([key, value]) =>
        key === "hooks" ? [null, value] : [key, isJsonObject(value) ? value.hooks : undefined],
      );
      for (const [method, list] of lists) {
        if (!Array.isArray(list)) continue;
        list.forEach((entry, index) => {
          const path = [...base, ...(method === null ? [] : [method]), "hooks", index];
          const hookConfig = isJsonObject(entry) && isJsonObject(entry.config) ? entry.config : undefined;
          entries.push({ path, flow, when, method, name: isJsonObject(entry) ? entry.hook : undefined, config: hookConfig, list });
        });
      }
    }
  }
  return entries;
}

/** The hook id a web_hook URL calls (`…/hooks/<id>`), the unknown id it names, or null for another path. */
export function routeOf(url: unknown): { id: HookId } | { unknown: string } | null {
  if (typeof url !== "string") return null;
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return null;
  }
  const match = /\/hooks\/([^/]+)\/?$/.exec(pathname);
  if (match?.[1] === undefined) return null;
  return isHookId(match[1]) ? { id: match[1] } : { unknown: match[1] };
}

/** A web_hook whose answer Kratos reads (`response.parse: true`). */
export function isParse(config: Record<string, unknown>): boolean {
  return isJsonObject(config.response) && config.response.parse === true;
}

/**
 * A `file://`, bare-path or `base64://` URL from kratos.yml, read the way Kratos's fetcher reads
 * it: relative paths from Kratos's working directory (`cwd`), not from kratos.yml's folder.
 */
export type Fetched = { ok: true; text: string; where: string } | { ok: false; why: string; where?: string };

export function fetchKratosURL(url: string, cwd: string): Fetched {
  if (url.startsWith("base64://")) {
    try {
      return { ok: true, text: Buffer.from(url.slice("base64://".length), "base64").toString("utf8"), where: "base64://…" };
    } catch {
      return { ok: false, why: "the base64:// value does not decode" };
    }
  }
  if (/^https?:\/\//.test(url)) return { ok: false, why: `${url} is fetched over the network, which this check does not do` };
  const path = url.startsWith("file://") ? url.slice("file://".length) : url;
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) return { ok: false, why: `unsupported URL scheme in ${url}` };
  const where = isAbsolute(path) ? path : resolve(cwd, path);
  try {
    return { ok: true, text: readFileSync(where, "utf8"), where };
  } catch (error) {
    return { ok: false, why: `${where} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`, where };
  }
}

/** kratos.yml: the one given, else ./kratos/kratos.yml, else the one this package ships. */
function findKratosYml(given: string | undefined): string {
  if (given !== undefined) return given;
  const local = join(process.cwd(), "kratos", "kratos.yml");
  return existsSync(local) ? local : join(PACKAGE_ROOT, "kratos", "kratos.yml");
}

/**
 * The kratos.yml a command works on, and the working directory Kratos is assumed to run in:
 * `cwd` when given, else kratos.yml's own folder, as the shipped README says. An unreadable
 * file is a usage error.
 */
export function openKratosConfig(given: string | undefined, cwd: string | undefined): { kratos: KratosConfig; cwd: string } {
  let kratos: KratosConfig;
  try {
    kratos = readKratosConfig(findKratosYml(given));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return { kratos, cwd: cwd ?? dirname(resolve(kratos.file)) };
}
