import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkIdentitySchema } from "../src/core/identity-schema-rules.js";

const DIR = new URL("../schemas/", import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith(".json"));

describe("the identity schemas in schemas/", () => {
  it("are the three of the seed scenario", () => {
    expect(files.sort()).toEqual(["default.schema.json", "email.schema.json", "phone.schema.json"]);
  });

  it.each(files)("%s breaks none of Kratos's identity meta-schema and extension rules", (file) => {
    const schema = JSON.parse(readFileSync(new URL(file, DIR), "utf8"));
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(checkIdentitySchema(schema)).toEqual([]);
  });

  it("the entry schema leaves phone unformatted so national numbers reach the hook", () => {
    const schema = JSON.parse(readFileSync(new URL("default.schema.json", DIR), "utf8"));
    const phone = schema.properties.traits.properties.phone;
    expect(phone.format).toBeUndefined();
    expect(phone["ory.sh/kratos"].credentials.code).toBeUndefined();
  });
});
