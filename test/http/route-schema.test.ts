import { describe, expect, it } from "vitest";
import { bodyOf, createTestApp, registration } from "../support/helpers.js";
import { STAFF_SCHEMA } from "../support/identity-schemas.js";

/** A config that keeps the bundled schemas and adds `staff`. */
async function withRules(routeSchema: Record<string, unknown>) {
  const { BUNDLED_IDENTITY_SCHEMAS } = await import("../../src/config/schema.js");
  return createTestApp({
    config: { identitySchemas: { ...BUNDLED_IDENTITY_SCHEMAS, staff: STAFF_SCHEMA }, routeSchema },
  });
}

async function routedTo(app: Awaited<ReturnType<typeof withRules>>, body: unknown): Promise<string | number> {
  const res = await app.call("registration-after", body);
  if (res.status === 204) return "unchanged";
  const json = await bodyOf(res);
  if (res.status === 200) return json.identity.schema_id ?? "unchanged";
  return json.messages[0].messages[0].id;
}

describe("routeSchema: default rules", () => {
  it.each([
    ["only a phone → phone", { phone: "+4917612345678" }, "phone"],
    ["only an email → email", { email: "jane@example.com" }, "email"],
    ["email and phone → email", { email: "jane@example.com", phone: "+4917612345678" }, "email"],
    ["a blank phone counts as absent", { email: "jane@example.com", phone: "" }, "email"],
  ])("%s", async (_title, traits, expected) => {
    expect(await routedTo(createTestApp(), registration(traits))).toBe(expected);
  });

  it("does not re-route an identity already on another schema", async () => {
    const res = await createTestApp().call("registration-after", registration({ phone: "+4917612345678" }, {}, "phone"));
    expect(res.status).toBe(204);
  });

  it("drops traits the target schema does not declare and keeps the rest whole", async () => {
    const res = await createTestApp({ config: { routeSchema: { rules: [{ when: {}, schema: "phone" }] } } }).call(
      "registration-after",
      registration({ email: "jane@example.com", phone: "+4917612345678" }),
    );
    expect(res.status).toBe(200);
    expect(await bodyOf(res)).toEqual({ identity: { schema_id: "phone", traits: { phone: "+4917612345678" } } });
  });

  it("denies, on the field, an identity the target schema would reject", async () => {
    // Only an email but routed to `phone`: Kratos would fail with an opaque error after the hook.
    const app = createTestApp({ config: { routeSchema: { rules: [{ when: { traitPresent: ["email"] }, schema: "phone" }] } } });
    const res = await app.call("registration-after", registration({ email: "jane@example.com" }));
    expect(res.status).toBe(422);
    expect(await bodyOf(res)).toEqual({
      messages: [
        {
          instance_ptr: "#/traits/phone",
          messages: [
            {
              id: 4100302,
              text: "The details you entered do not fit this account type. Check the highlighted fields.",
              type: "error",
              context: {
                reason: "schema_mismatch",
                schema_id: "phone",
                keyword: "required",
                detail: 'Instance does not have required property "phone".',
              },
            },
          ],
        },
      ],
    });
  });

  it("checks format tel as Kratos does when validating the target", async () => {
    const app = createTestApp({ config: { normalizePhone: { enabled: false } } });
    const res = await app.call("registration-after", registration({ phone: "0176 12345678" }));
    expect(res.status).toBe(422);
    const json = await bodyOf(res);
    expect(json.messages[0].instance_ptr).toBe("#/traits/phone");
    expect(json.messages[0].messages[0].context.keyword).toBe("format");
  });

  it("format tel needs a leading + as in Kratos: 00 and spaces are not enough without normalization", async () => {
    const app = createTestApp({ config: { normalizePhone: { enabled: false } } });
    const refused = await app.call("registration-after", registration({ phone: "0049 176 12345678" }));
    expect(refused.status).toBe(422);
    expect((await bodyOf(refused)).messages[0].instance_ptr).toBe("#/traits/phone");
    const accepted = await app.call("registration-after", registration({ phone: "+49 176 12345678" }));
    expect(accepted.status).toBe(200);
  });

  it("can tag routed identities through metadata_public, merged with what is there", async () => {
    const app = createTestApp({
      config: { routeSchema: { rules: [{ when: { traitPresent: ["phone"] }, schema: "phone", metadataPublic: { signup: "phone" } }] } },
    });
    const body = registration({ phone: "+4917612345678" });
    body.identity.metadata_public = { plan: "free" };
    const res = await app.call("registration-after", body);
    expect(await bodyOf(res)).toEqual({ identity: { schema_id: "phone", metadata_public: { plan: "free", signup: "phone" } } });
  });
});

describe("routeSchema: phoneCountryIn reads a national number in the same region as normalizePhone", () => {
  it.each([
    ["the picked region", { transient_payload: { phone_region: "FR" } }, {}, "email"],
    ["defaultRegion", {}, { defaultRegion: "FR" }, "email"],
    ["no region: the country is unknown", {}, {}, "unchanged"],
  ])("%s", async (_title, flow, phoneOptions, expected) => {
    // Normalization off, so routing sees the number as typed.
    const app = createTestApp({
      config: {
        normalizePhone: { enabled: false, ...phoneOptions },
        routeSchema: { rules: [{ when: { phoneCountryIn: ["FR"] }, schema: "email" }] },
      },
    });
    expect(await routedTo(app, registration({ email: "a@example.com", phone: "06 12 34 56 78" }, flow))).toBe(expected);
  });
});

describe("routeSchema: guards", () => {
  const guarded = () =>
    withRules({ rules: [], guards: [{ schema: "staff", require: { emailDomainIn: ["corp.example"] }, field: "email" }] });

  it("refuses a requested schema whose requirement fails, on the named field", async () => {
    const app = await guarded();
    const res = await app.call("registration-after", registration({ email: "eve@example.com", department: "eng" }, {}, "staff"));
    expect(res.status).toBe(422);
    const json = await bodyOf(res);
    expect(json.messages[0].instance_ptr).toBe("#/traits/email");
    expect(json.messages[0].messages[0]).toMatchObject({ id: 4100301, context: { reason: "schema_not_allowed", schema_id: "staff" } });
  });

  it("reads the schema the client asked for from flow.identity_schema (Kratos v25.4+)", async () => {
    const app = await guarded();
    const res = await app.call("registration-after", registration({ email: "eve@example.com" }, { identity_schema: "staff" }));
    expect(res.status).toBe(422);
  });

  it("lets the requested schema through when the requirement holds", async () => {
    const app = await guarded();
    const res = await app.call("registration-after", registration({ email: "bob@corp.example", department: "eng" }, {}, "staff"));
    expect(res.status).toBe(204);
  });

  it("answers globally when the guard names no field", async () => {
    const app = await withRules({ rules: [], guards: [{ schema: "staff", require: { traitPresent: ["department"] } }] });
    const res = await app.call("registration-after", registration({ email: "bob@corp.example" }, {}, "staff"));
    expect((await bodyOf(res)).messages[0].instance_ptr).toBe("#/");
  });
});
