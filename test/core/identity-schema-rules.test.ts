import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/parse.js";
import { checkIdentitySchema } from "../../src/core/identity-schema-rules.js";
import { pointerKeys } from "../../src/core/json-pointer.js";

/** An identity schema with these trait properties. */
const withTraits = (properties: Record<string, unknown>) => ({
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  properties: { traits: { type: "object", properties } },
});
const phone = (extra: Record<string, unknown>) => ({ type: "string", ...extra });
const nested = (trait: Record<string, unknown>) => withTraits({ contact: { type: "object", properties: { mobile: trait } } });
const NESTED = "#/properties/traits/properties/contact/properties/mobile";

const brief = (schema: unknown) => checkIdentitySchema(schema).map(({ code, effect, path }) => ({ code, effect, path }));

// The doctor's fixtures (test/cli/doctor.test.ts) cover each rule on a top-level trait; these
// cover what the fixtures do not: depth, and what later Kratos versions accept.
describe("checkIdentitySchema", () => {
  it("checks the extension at every depth, as Kratos's identity-extension does", () => {
    expect(brief(nested(phone({ "ory.sh/kratos": { verification: { via: "sms" } } })))).toEqual([
      { code: "schema-sms-needs-tel", effect: "fails_at_runtime", path: `${NESTED}/format` },
    ]);
    expect(brief(nested(phone({ "ory.sh/kratos": { credentials: { code: { identifer: true } } } })))).toEqual([
      { code: "schema-extension-unknown-key", effect: "refuses_to_start", path: `${NESTED}/ory.sh~1kratos/credentials/code/identifer` },
    ]);
  });

  it("checks the format of a verified trait at the top level only, as the identity meta-schema does", () => {
    const uri = phone({ format: "uri", "ory.sh/kratos": { verification: { via: "email" } } });
    expect(brief(withTraits({ email: uri }))).toEqual([
      { code: "schema-verification-format", effect: "refuses_to_start", path: "#/properties/traits/properties/email/format" },
    ]);
    expect(brief(nested(uri))).toEqual([]);
  });

  it("accepts sms verification with format tel or no-validate", () => {
    for (const format of ["tel", "no-validate"]) {
      expect(brief(withTraits({ phone: phone({ format, "ory.sh/kratos": { verification: { via: "sms" } } }) }))).toEqual([]);
    }
  });

  it("says which findings later Kratos versions accept", () => {
    const [recovery] = checkIdentitySchema(withTraits({ phone: phone({ format: "tel", "ory.sh/kratos": { recovery: { via: "sms" } } }) }));
    expect(recovery).toMatchObject({ code: "schema-recovery-via", effect: "refuses_to_start", acceptedFrom: "v25.4.0" });
    const [organizations] = checkIdentitySchema(
      withTraits({ email: phone({ "ory.sh/kratos": { organizations: { matcher: "email_domain" } } }) }),
    );
    expect(organizations).toMatchObject({ code: "schema-extension-unknown-key", acceptedFrom: "v25.4.0" });
    const [pigeon] = checkIdentitySchema(withTraits({ phone: phone({ "ory.sh/kratos": { recovery: { via: "pigeon" } } }) }));
    expect(pigeon?.acceptedFrom).toBeUndefined();
  });

  it("pointerKeys reads the pointers it writes", () => {
    expect(pointerKeys("#/properties/traits/properties/a~1b~0c/ory.sh~1kratos")).toEqual([
      "properties",
      "traits",
      "properties",
      "a/b~c",
      "ory.sh/kratos",
    ]);
    expect(pointerKeys("#")).toEqual([]);
  });
});

describe("the server at start (identitySchemas in our config)", () => {
  const start = (schema: unknown) => () => parseConfig({ identitySchemas: { custom: schema } }, "test");

  it("refuses a schema Kratos refuses to start with, naming the key", () => {
    expect(start(withTraits({ email: phone({ "ory.sh/kratos": { verfication: { via: "email" } } }) }))).toThrow(
      'identitySchemas.custom.properties.traits.properties.email.ory.sh/kratos.verfication: "ory.sh/kratos" has the unknown key "verfication"',
    );
  });

  it("refuses a schema Kratos starts with and then fails on: sms verification without format tel", () => {
    expect(start(nested(phone({ "ory.sh/kratos": { verification: { via: "sms" } } })))).toThrow(
      /identitySchemas\.custom\.properties\.traits\.properties\.contact\.properties\.mobile\.format: .*Kratos starts, then refuses every identity that has this trait/,
    );
  });

  it("accepts what a later Kratos version accepts", () => {
    const config = start(withTraits({ phone: phone({ format: "tel", "ory.sh/kratos": { recovery: { via: "sms" } } }) }))();
    expect(Object.keys(config.identitySchemas)).toContain("custom");
  });
});
