import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { findIdentitySchemaProblem } from "../src/core/identity-schemas.js";

const DIR = new URL("../schemas/", import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith(".json"));

/**
 * The `ory.sh/kratos` extension as Kratos v1.3.1 accepts it (`embedx/identity_extension.schema.json`,
 * additionalProperties false at every level; recovery only via email before v25.4).
 */
function extensionProblems(ext: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const allowed: Record<string, string[]> = {
    credentials: ["password", "webauthn", "passkey", "totp", "code"],
    verification: ["via"],
    recovery: ["via"],
  };
  for (const [key, value] of Object.entries(ext)) {
    if (!(key in allowed)) problems.push(`unknown key ${key}`);
    for (const sub of Object.keys(value as object)) if (!allowed[key]?.includes(sub)) problems.push(`unknown key ${key}.${sub}`);
  }
  const code = (ext.credentials as Record<string, Record<string, unknown>> | undefined)?.code;
  if (code?.identifier === true && !["email", "sms"].includes(String(code.via))) problems.push("code identifier without via email|sms");
  const verification = (ext.verification as { via?: string } | undefined)?.via;
  if (verification !== undefined && !["email", "sms"].includes(verification)) problems.push(`verification via ${verification}`);
  const recovery = (ext.recovery as { via?: string } | undefined)?.via;
  if (recovery !== undefined && recovery !== "email") problems.push(`recovery via ${recovery} (v1.3.1 allows email only)`);
  return problems;
}

describe("the identity schemas in schemas/", () => {
  it("are the three of the seed scenario", () => {
    expect(files.sort()).toEqual(["default.schema.json", "email.schema.json", "phone.schema.json"]);
  });

  it.each(files)("%s passes Kratos's identity meta-schema rules and extension keys", (file) => {
    const schema = JSON.parse(readFileSync(new URL(file, DIR), "utf8"));
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(findIdentitySchemaProblem(schema)).toBeUndefined();
    for (const [name, property] of Object.entries(schema.properties.traits.properties as Record<string, Record<string, unknown>>)) {
      const ext = property["ory.sh/kratos"];
      if (ext !== undefined) expect(extensionProblems(ext as Record<string, unknown>), `${file} traits.${name}`).toEqual([]);
    }
  });

  it("the entry schema leaves phone unformatted so national numbers reach the hook", () => {
    const schema = JSON.parse(readFileSync(new URL("default.schema.json", DIR), "utf8"));
    const phone = schema.properties.traits.properties.phone;
    expect(phone.format).toBeUndefined();
    expect(phone["ory.sh/kratos"].credentials.code).toBeUndefined();
  });
});
