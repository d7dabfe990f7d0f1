import { isPlainObject } from "../core/json.js";

/** A problem in one identity schema, by JSON pointer into the schema document. */
export interface SchemaFinding {
  code: string;
  severity: "error" | "warning";
  pointer: string;
  message: string;
  fix: string;
}

// embedx/identity_extension.schema.json@v1.3.1: every level has additionalProperties false.
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
const VERIFIABLE_FORMATS = ["email", "tel", "date", "time", "date-time", "no-validate"];
const SKELETON =
  '{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": {"traits": {"type": "object", "properties": {…}}}}';

function checkExtension(ext: unknown, pointer: string, property: Record<string, unknown>, out: SchemaFinding[]): void {
  const walk = (node: unknown, path: string) => {
    if (!isPlainObject(node)) {
      out.push({
        code: "schema-extension-type",
        severity: "error",
        pointer: `${pointer}${path === "" ? "" : `/${path.replaceAll(".", "/")}`}`,
        message: `"ory.sh/kratos"${path === "" ? "" : `.${path}`} must be an object: Kratos refuses to start`,
        fix: "see the keys Kratos accepts: credentials, verification, recovery",
      });
      return;
    }
    const allowed = EXTENSION_KEYS[path];
    for (const key of Object.keys(node)) {
      const next = path === "" ? key : `${path}.${key}`;
      if (allowed !== undefined && !allowed.includes(key)) {
        out.push({
          code: "schema-extension-unknown-key",
          severity: "error",
          pointer: `${pointer}/${next.replaceAll(".", "/")}`,
          message: `"ory.sh/kratos"${path === "" ? "" : `.${path}`} has the unknown key "${key}": Kratos refuses to start`,
          fix: `use one of: ${allowed.join(", ")}`,
        });
      } else if (EXTENSION_KEYS[next] !== undefined) {
        walk(node[key], next);
      }
    }
  };
  walk(ext, "");
  if (!isPlainObject(ext)) return;
  const verification = isPlainObject(ext.verification) ? ext.verification : undefined;
  if (verification !== undefined && verification.via !== undefined && verification.via !== "email" && verification.via !== "sms") {
    out.push({
      code: "schema-verification-via",
      severity: "error",
      pointer: `${pointer}/verification/via`,
      message: `verification.via is ${JSON.stringify(verification.via)}: Kratos refuses to start (it accepts "email" or "sms")`,
      fix: 'set "via": "email" or "sms"',
    });
  }
  if (verification?.via === "sms" && property.format !== "tel" && property.format !== "no-validate") {
    out.push({
      code: "schema-sms-needs-tel",
      severity: "error",
      pointer: pointer.replace(/\/ory\.sh~1kratos$/, "/format"),
      message: `a trait verified via sms needs "format": "tel", found ${property.format === undefined ? "no format" : JSON.stringify(property.format)}: Kratos starts, then refuses every identity that has this trait ("no format specified. A format is required if verification is enabled")`,
      fix: 'add "format": "tel" to this trait',
    });
  } else if (verification !== undefined && property.format !== undefined && !VERIFIABLE_FORMATS.includes(String(property.format))) {
    out.push({
      code: "schema-verification-format",
      severity: "error",
      pointer: pointer.replace(/\/ory\.sh~1kratos$/, "/format"),
      message: `a verified trait must have a format Kratos can verify, found ${JSON.stringify(property.format)}: Kratos refuses to start`,
      fix: `use one of: ${VERIFIABLE_FORMATS.join(", ")}`,
    });
  }
  const recovery = isPlainObject(ext.recovery) ? ext.recovery : undefined;
  if (recovery !== undefined && recovery.via !== undefined && recovery.via !== "email") {
    out.push({
      code: "schema-recovery-via",
      severity: "error",
      pointer: `${pointer}/recovery/via`,
      message: `recovery.via is ${JSON.stringify(recovery.via)}: Kratos v1.3.1 refuses to start (it recovers by "email" only; sms from v25.4)`,
      fix: 'set "via": "email", or drop recovery from this trait',
    });
  }
  const credentials = isPlainObject(ext.credentials) ? ext.credentials : {};
  const code = isPlainObject(credentials.code) ? credentials.code : undefined;
  if (code?.identifier === true && code.via !== "email" && code.via !== "sms") {
    out.push({
      code: "schema-code-via",
      severity: "error",
      pointer: `${pointer}/credentials/code`,
      message: `credentials.code.identifier is true but "via" is ${code.via === undefined ? "missing" : JSON.stringify(code.via)}: Kratos fails every code sign-up ("channel type … must be one of email, sms")`,
      fix: 'add "via": "email" or "via": "sms"',
    });
  }
}

/** Walks trait properties at every depth: the extension applies to nested properties too. */
function checkProperties(properties: Record<string, unknown>, pointer: string, out: SchemaFinding[]): void {
  for (const [name, property] of Object.entries(properties)) {
    const here = `${pointer}/${name.replaceAll("~", "~0").replaceAll("/", "~1")}`;
    if (!isPlainObject(property)) continue;
    if ("ory.sh/kratos" in property) checkExtension(property["ory.sh/kratos"], `${here}/ory.sh~1kratos`, property, out);
    if (isPlainObject(property.properties)) checkProperties(property.properties, `${here}/properties`, out);
  }
}

/**
 * Checks an identity schema against the rules of Kratos's identity meta-schema
 * (`embedx/identity_meta.schema.json`, `identity_extension.schema.json`), in plain words.
 */
export function checkIdentitySchema(schema: unknown): SchemaFinding[] {
  if (!isPlainObject(schema)) {
    return [
      {
        code: "schema-not-object",
        severity: "error",
        pointer: "#",
        message: "the schema is not a JSON object: Kratos refuses to start",
        fix: `write ${SKELETON}`,
      },
    ];
  }
  if (!isPlainObject(schema.properties)) {
    const topLevelTraits = Object.keys(schema).filter(
      (k) => !k.startsWith("$") && !["type", "title", "description", "required", "additionalProperties"].includes(k),
    );
    return [
      {
        code: "schema-no-properties",
        severity: "error",
        pointer: "#",
        message:
          'no top-level "properties": Kratos refuses to start with `allOf failed … S[#/allOf/1/required] missing properties: "properties"`' +
          (topLevelTraits.length > 0 ? ` (found ${topLevelTraits.map((k) => `"${k}"`).join(", ")} at the top level)` : ""),
        fix: `nest the traits: ${SKELETON}; or point the url at the identity schema, not another JSON file`,
      },
    ];
  }
  const traits = schema.properties.traits;
  if (!isPlainObject(traits)) {
    return [
      {
        code: "schema-no-traits",
        severity: "error",
        pointer: "#/properties",
        message:
          'no "traits" under "properties": Kratos refuses to start with `S[#/allOf/1/properties/properties/required] missing properties: "traits"`',
        fix: 'add "traits": {"type": "object", "properties": {…}} under "properties"',
      },
    ];
  }
  const out: SchemaFinding[] = [];
  if (traits.type !== undefined && traits.type !== "object") {
    out.push({
      code: "schema-traits-type",
      severity: "error",
      pointer: "#/properties/traits/type",
      message: `traits must be "type": "object", found ${JSON.stringify(traits.type)}: Kratos refuses to start`,
      fix: 'set "type": "object"',
    });
  }
  if (!isPlainObject(traits.properties) || Object.keys(traits.properties).length === 0) {
    out.push({
      code: "schema-no-trait-properties",
      severity: "error",
      pointer: "#/properties/traits",
      message: "traits declare no properties: Kratos refuses to start (it needs at least one)",
      fix: 'add "properties": {"email": {"type": "string", "format": "email"}} (or your own traits) under traits',
    });
    return out;
  }
  checkProperties(traits.properties, "#/properties/traits/properties", out);
  return out;
}
