import { type OutputUnit, Validator } from "@cfworker/json-schema";
import type { JsonObject } from "./decision.js";
import { isJsonObject } from "./json.js";
import { toE164 } from "./phone.js";

export interface SchemaProblem {
  /** JSON pointer into the identity document, e.g. `#/traits/phone`. */
  pointer: string;
  keyword: string;
  detail: string;
}

export interface IdentitySchemaSet {
  /** Top-level trait names the schema declares under `properties.traits.properties`. */
  declaredTraits(id: string): ReadonlySet<string>;
  /** Validates `{traits}` the way Kratos re-validates an identity after a hook changed it. */
  validate(id: string, traits: JsonObject): SchemaProblem[];
}

function traitProperties(schema: JsonObject): JsonObject | undefined {
  const traits = isJsonObject(schema.properties) ? schema.properties.traits : undefined;
  return isJsonObject(traits) && isJsonObject(traits.properties) ? traits.properties : undefined;
}

function toProblem(unit: OutputUnit): SchemaProblem {
  const missing = unit.keyword === "required" ? /property "([^"]+)"/.exec(unit.error)?.[1] : undefined;
  const pointer = missing === undefined ? unit.instanceLocation : `${unit.instanceLocation}/${missing}`;
  return { pointer, keyword: unit.keyword, detail: unit.error };
}

/** The JSON Schema draft a schema declares in `$schema`; Kratos's own examples use draft-07. */
function draftOf(schema: JsonObject): "4" | "7" | "2019-09" | "2020-12" {
  const uri = typeof schema.$schema === "string" ? schema.$schema : "";
  if (uri.includes("2020-12")) return "2020-12";
  if (uri.includes("2019-09")) return "2019-09";
  if (uri.includes("draft-04")) return "4";
  return "7";
}

/**
 * Kratos's `format: tel` (ory/jsonschema): phonenumbers.Parse with no region, then
 * IsValidNumber. Without a region only `+…` (or `tel:+…`) parses; `00…` does not.
 */
function isKratosTel(value: string): boolean {
  const trimmed = value.normalize("NFKC").trim();
  return /^(tel:)?\+/i.test(trimmed) && toE164(trimmed, undefined).ok;
}

// Wrapper errors that only say "a child failed"; the child error says what.
const WRAPPERS = new Set(["properties", "items", "allOf", "$ref", "additionalProperties"]);

/**
 * Builds validators for the identity schemas once. The validator is @cfworker/json-schema,
 * which interprets schemas without generating code, so it also runs in Workers (no eval).
 * `format: tel` is checked as Kratos checks it: libphonenumber, no default region, isValid.
 */
export function createIdentitySchemaSet(schemas: Readonly<Record<string, JsonObject>>): IdentitySchemaSet {
  const compiled = new Map(
    Object.entries(schemas).map(([id, schema]) => {
      const properties = traitProperties(schema) ?? {};
      const telTraits = Object.keys(properties).filter((k) => {
        const p = properties[k];
        return isJsonObject(p) && p.format === "tel";
      });
      const validator = new Validator(schema, draftOf(schema), false);
      return [id, { validator, declared: new Set(Object.keys(properties)), telTraits }];
    }),
  );
  const get = (id: string) => {
    const entry = compiled.get(id);
    if (entry === undefined) throw new Error(`unknown identity schema "${id}"`);
    return entry;
  };
  return {
    declaredTraits: (id) => get(id).declared,
    validate(id, traits) {
      const entry = get(id);
      const result = entry.validator.validate({ traits });
      const problems = result.valid ? [] : result.errors.filter((e) => !WRAPPERS.has(e.keyword)).map(toProblem);
      for (const name of entry.telTraits) {
        const value = traits[name];
        if (typeof value === "string" && !isKratosTel(value)) {
          problems.push({ pointer: `#/traits/${name}`, keyword: "format", detail: 'String does not match format "tel".' });
        }
      }
      return problems;
    },
  };
}
