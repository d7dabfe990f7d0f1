import { isJsonObject } from "./json.js";
import { appendKeys } from "./json-pointer.js";

/**
 * What a problem does to a running system, as the end-to-end suite measures it on Kratos v1.3.1
 * (`test/e2e/doctor-agreement.e2e.test.ts` starts the real binary on each doctor fixture).
 */
export type Effect =
  /** Kratos exits at start (`Unable to instantiate configuration.`). */
  | "refuses_to_start"
  /** Kratos starts, then fails (or silently skips our hooks in) the flows it touches. */
  | "fails_at_runtime"
  /** Everything runs; the setup is risky or was not checked. */
  | "warning";

/** One rule of Kratos's identity meta-schema an identity schema breaks, in plain words. */
export interface IdentitySchemaFinding {
  /** Stable id of the rule, e.g. `schema-sms-needs-tel`. */
  code: string;
  effect: Effect;
  /** JSON pointer into the schema document, e.g. `#/properties/traits/properties/phone/format`. */
  path: string;
  message: string;
  /** What to change, naming the key. */
  fix: string;
  /**
   * The first Kratos version that accepts what this finding is about. The findings are what
   * v1.3.1 does; the server also serves later versions, so it does not refuse these.
   */
  acceptedFrom?: string;
}

// embedx/identity_extension.schema.json@v1.3.1: every level has additionalProperties false, and
// the extension applies to the properties of a trait at every depth (`patternProperties ".*":
// {"$ref": "#"}`).
const EXTENSION_KEYS: Record<string, readonly string[]> = {
  "": ["credentials", "verification", "recovery"],
  credentials: ["password", "webauthn", "passkey", "totp", "code"],
  "credentials.password": ["identifier"],
  "credentials.webauthn": ["identifier"],
  "credentials.passkey": ["display_name"],
  "credentials.totp": ["account_name"],
  "credentials.code": ["identifier", "via"],
  verification: ["via"],
  recovery: ["via"],
};
/** Extension keys later Kratos versions add (contract §5.3). */
const LATER_KEYS: Record<string, string> = { organizations: "v25.4.0" };
// embedx/identity_meta.schema.json: the format a verified trait may have.
const VERIFIABLE_FORMATS = ["email", "tel", "date", "time", "date-time", "no-validate"];
const SKELETON =
  '{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {"traits": {"type": "object", "properties": {…}}}}';

/** Keys of the extension object that Kratos v1.3.1 does not know, at every level. */
function extensionKeyFindings(ext: unknown, pointer: string, out: IdentitySchemaFinding[]): void {
  const walk = (node: unknown, path: string) => {
    const here = path === "" ? pointer : appendKeys(pointer, ...path.split("."));
    const name = `"ory.sh/kratos"${path === "" ? "" : `.${path}`}`;
    if (!isJsonObject(node)) {
      out.push({
        code: "schema-extension-type",
        effect: "refuses_to_start",
        path: here,
        message: `${name} must be an object: Kratos refuses to start`,
        fix: `write ${name} as an object with the keys Kratos accepts: ${(EXTENSION_KEYS[path] ?? []).join(", ")}`,
      });
      return;
    }
    const allowed = EXTENSION_KEYS[path] ?? [];
    for (const key of Object.keys(node)) {
      const next = path === "" ? key : `${path}.${key}`;
      if (!allowed.includes(key)) {
        const later = path === "" ? LATER_KEYS[key] : undefined;
        out.push({
          code: "schema-extension-unknown-key",
          effect: "refuses_to_start",
          path: appendKeys(here, key),
          message: `${name} has the unknown key "${key}": Kratos v1.3.1 refuses to start${later === undefined ? "" : ` (Kratos accepts it from ${later})`}`,
          fix: `replace "${key}" with one of: ${allowed.join(", ")}`,
          ...(later === undefined ? {} : { acceptedFrom: later }),
        });
      } else if (EXTENSION_KEYS[next] !== undefined) {
        walk(node[key], next);
      }
    }
  };
  walk(ext, "");
}

/**
 * The `ory.sh/kratos` extension of one trait property. `topLevel`: a trait directly under
 * `traits.properties`, where the meta-schema also checks the format of a verified trait.
 */
function extensionFindings(property: Record<string, unknown>, pointer: string, topLevel: boolean, out: IdentitySchemaFinding[]): void {
  const ext = property["ory.sh/kratos"];
  const at = appendKeys(pointer, "ory.sh/kratos");
  extensionKeyFindings(ext, at, out);
  if (!isJsonObject(ext)) return;
  const verification = isJsonObject(ext.verification) ? ext.verification : undefined;
  const via = verification?.via;
  if (via !== undefined && via !== "email" && via !== "sms") {
    out.push({
      code: "schema-verification-via",
      effect: "refuses_to_start",
      path: `${at}/verification/via`,
      message: `verification.via is ${JSON.stringify(via)}: Kratos refuses to start (it accepts "email" or "sms")`,
      fix: 'set "via": "email" or "sms"',
    });
  }
  const format = property.format;
  if (via === "sms" && format !== "tel" && format !== "no-validate") {
    // Measured on v1.3.1: the meta-schema lets a missing format through, so Kratos starts; its
    // verification extension then fails every identity with this trait (identity/extension_verification.go).
    out.push({
      code: "schema-sms-needs-tel",
      effect: "fails_at_runtime",
      path: `${pointer}/format`,
      message: `a trait verified via sms needs "format": "tel", found ${format === undefined ? "no format" : JSON.stringify(format)}: Kratos starts, then refuses every identity that has this trait ("no format specified. A format is required if verification is enabled")`,
      fix: 'add "format": "tel" to this trait (or "no-validate")',
    });
  } else if (topLevel && verification !== undefined && format !== undefined && !VERIFIABLE_FORMATS.includes(String(format))) {
    // embedx/identity_meta.schema.json checks this with an if/then on top-level traits only.
    out.push({
      code: "schema-verification-format",
      effect: "refuses_to_start",
      path: `${pointer}/format`,
      message: `a verified trait must have a format Kratos can verify, found ${JSON.stringify(format)}: Kratos refuses to start`,
      fix: `set "format" to one of: ${VERIFIABLE_FORMATS.join(", ")}`,
    });
  }
  const recovery = isJsonObject(ext.recovery) ? ext.recovery : undefined;
  if (recovery !== undefined && recovery.via !== undefined && recovery.via !== "email") {
    out.push({
      code: "schema-recovery-via",
      effect: "refuses_to_start",
      path: `${at}/recovery/via`,
      message: `recovery.via is ${JSON.stringify(recovery.via)}: Kratos v1.3.1 refuses to start (it recovers by "email" only; sms from v25.4)`,
      fix: 'set "via": "email", or drop recovery from this trait',
      ...(recovery.via === "sms" ? { acceptedFrom: "v25.4.0" } : {}),
    });
  }
  const credentials = isJsonObject(ext.credentials) ? ext.credentials : {};
  const code = isJsonObject(credentials.code) ? credentials.code : undefined;
  if (code?.identifier === true && code.via !== "email" && code.via !== "sms") {
    out.push({
      code: "schema-code-via",
      effect: "fails_at_runtime",
      path: `${at}/credentials/code`,
      message: `credentials.code.identifier is true but "via" is ${code.via === undefined ? "missing" : JSON.stringify(code.via)}: Kratos starts, then fails every code sign-up ("channel type … must be one of email, sms")`,
      fix: 'add "via": "email" or "via": "sms" to credentials.code',
    });
  }
}

/** Trait properties at every depth: the extension applies to nested properties too. */
function propertyFindings(properties: Record<string, unknown>, pointer: string, topLevel: boolean, out: IdentitySchemaFinding[]): void {
  for (const [name, property] of Object.entries(properties)) {
    const here = appendKeys(pointer, name);
    if (!isJsonObject(property)) continue;
    if ("ory.sh/kratos" in property) extensionFindings(property, here, topLevel, out);
    if (isJsonObject(property.properties)) propertyFindings(property.properties, `${here}/properties`, false, out);
  }
}

/**
 * Checks an identity schema against Kratos's identity meta-schema
 * (`embedx/identity_meta.schema.json`, `identity_extension.schema.json`) and the rules Kratos
 * applies to each identity. Each finding says what Kratos v1.3.1 does with it. The one checker
 * for the server's config, the doctor and the tests.
 */
export function checkIdentitySchema(schema: unknown): IdentitySchemaFinding[] {
  if (!isJsonObject(schema)) {
    return [
      {
        code: "schema-not-object",
        effect: "refuses_to_start",
        path: "#",
        message: "the schema is not a JSON object: Kratos refuses to start",
        fix: `write ${SKELETON}`,
      },
    ];
  }
  if (!isJsonObject(schema.properties)) {
    const topLevelTraits = Object.keys(schema).filter(
      (k) => !k.startsWith("$") && !["type", "title", "description", "required", "additionalProperties"].includes(k),
    );
    return [
      {
        code: "schema-no-properties",
        effect: "refuses_to_start",
        path: "#",
        message:
          'no top-level "properties": Kratos refuses to start with `allOf failed … S[#/allOf/1/required] missing properties: "properties"`' +
          (topLevelTraits.length > 0 ? ` (found ${topLevelTraits.map((k) => `"${k}"`).join(", ")} at the top level)` : ""),
        fix: `nest the traits: ${SKELETON}; or point the url at the identity schema, not another JSON file`,
      },
    ];
  }
  const traits = schema.properties.traits;
  if (!isJsonObject(traits)) {
    return [
      {
        code: "schema-no-traits",
        effect: "refuses_to_start",
        path: "#/properties",
        message:
          'no "traits" under "properties": Kratos refuses to start with `S[#/allOf/1/properties/properties/required] missing properties: "traits"`',
        fix: 'add "traits": {"type": "object", "properties": {…}} under "properties"',
      },
    ];
  }
  const out: IdentitySchemaFinding[] = [];
  if (traits.type !== undefined && traits.type !== "object") {
    out.push({
      code: "schema-traits-type",
      effect: "refuses_to_start",
      path: "#/properties/traits/type",
      message: `traits must be "type": "object", found ${JSON.stringify(traits.type)}: Kratos refuses to start`,
      fix: 'set "type": "object" on traits',
    });
  }
  if (!isJsonObject(traits.properties) || Object.keys(traits.properties).length === 0) {
    out.push({
      code: "schema-no-trait-properties",
      effect: "refuses_to_start",
      path: "#/properties/traits",
      message: "traits declare no properties: Kratos refuses to start (it needs at least one)",
      fix: 'add "properties": {"email": {"type": "string", "format": "email"}} (or your own traits) under traits',
    });
    return out;
  }
  propertyFindings(traits.properties, "#/properties/traits/properties", true, out);
  return out;
}
