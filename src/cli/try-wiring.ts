import { type HookId, hookAt } from "../core/hooks.js";
import { createIdentitySchemaSet, type IdentitySchemaSet } from "../core/identity-schemas.js";
import { isJsonObject } from "../core/json.js";
import { fetchKratosURL, type HookEntry, type KratosConfig, listHooks, pathText, routeOf } from "./kratos-config.js";
import { displayPath, UsageError } from "./usage.js";

/** A web_hook entry of kratos.yml, with its config. */
export type Wiring = HookEntry & { config: Record<string, unknown> };

/** The web_hook wired to our route for `hook`, preferring the place the hook belongs. */
export function findWiring(kratos: KratosConfig, hook: HookId): Wiring {
  const wired = listHooks(kratos.data).filter((e) => {
    const route = e.name === "web_hook" ? routeOf(e.config?.url) : null;
    return route !== null && "id" in route && route.id === hook;
  });
  const entry = wired.find((e) => hookAt(e.flow, e.when) === hook) ?? wired[0];
  if (entry?.config === undefined) {
    throw new UsageError(`${kratos.file} wires no web_hook to /hooks/${hook}; run \`kratos-hooks doctor ${kratos.file}\``);
  }
  return entry as Wiring;
}

/** The web_hook's body template: its text, where it was read, and the name `try` shows. */
export interface BodyTemplate {
  text: string;
  where: string;
  name: string;
}

/** Reads the web_hook's body template as Kratos would from `cwd`; one it cannot read is a usage error that says why. */
export function readBodyTemplate(kratos: KratosConfig, wiring: Wiring, cwd: string): BodyTemplate {
  const bodyURL = wiring.config.body;
  if (typeof bodyURL !== "string") throw new UsageError(`${pathText(wiring.path)}.config has no body template in ${kratos.file}`);
  const template = fetchKratosURL(bodyURL, cwd);
  if (!template.ok)
    throw new UsageError(
      `the body template of ${pathText(wiring.path)}: ${template.why} (Kratos's working directory assumed: ${cwd}; change it with --cwd)`,
    );
  const name = template.where === "base64://…" ? bodyURL.slice(0, 24) : displayPath(template.where);
  return { text: template.text, where: template.where, name };
}

/** kratos.yml's identity schemas: the ids it lists, the documents try could read, and a note for each it could not. */
export interface KratosSchemas {
  ids: string[];
  schemas: IdentitySchemaSet;
  notes: string[];
}

/**
 * Reads the identity schemas kratos.yml lists, for the verdict to re-validate a save as Kratos
 * does. One try cannot read is not dropped in silence: a note says so, and the verdict then
 * judges a save to it without re-validating it.
 */
export function readSchemas(kratos: KratosConfig, cwd: string): KratosSchemas {
  const identity = isJsonObject(kratos.data.identity) ? kratos.data.identity : {};
  const entries: unknown[] = Array.isArray(identity.schemas) ? identity.schemas : [];
  const ids = entries.flatMap((s) => (isJsonObject(s) && typeof s.id === "string" ? [s.id] : []));
  const documents: Record<string, Record<string, unknown>> = {};
  const notes: string[] = [];
  const unread = (id: string, url: string, why: string) =>
    notes.push(`identity schema ${id} (${url}): ${why}; a save to it is not re-validated`);
  for (const [at, schema] of entries.entries()) {
    if (!isJsonObject(schema) || typeof schema.id !== "string") {
      notes.push(`identity.schemas[${at}] has no id (Kratos does not start with it): try skipped it`);
      continue;
    }
    if (typeof schema.url !== "string") {
      notes.push(`identity schema ${schema.id} has no url (Kratos does not start with it); a save to it is not re-validated`);
      continue;
    }
    const fetched = fetchKratosURL(schema.url, cwd);
    if (!fetched.ok) {
      unread(schema.id, schema.url, fetched.why);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(fetched.text);
    } catch (error) {
      unread(schema.id, schema.url, `not JSON (${(error as Error).message})`);
      continue;
    }
    if (isJsonObject(parsed)) documents[schema.id] = parsed;
    else unread(schema.id, schema.url, "not a JSON object");
  }
  return { ids, schemas: createIdentitySchemaSet(documents), notes };
}
