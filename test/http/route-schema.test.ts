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

describe("routeSchema: a schema the client asked for (flow.identity_schema, Kratos v25.4+) is kept or refused, never left silently", () => {
  /** A v25.4+ registration: Kratos built the identity on the schema the client asked for. */
  const asked = (schema: string, traits: Record<string, unknown>) => registration(traits, { identity_schema: schema }, schema);
  const phoneRule = { name: "any phone", when: { traitPresent: ["phone"] }, schema: "phone" };
  const rulesLines = (app: ReturnType<typeof createTestApp>) =>
    app.logs().filter((l) => typeof l.msg === "string" && l.msg.includes("the schema the client asked for"));

  it.each([
    ["phone, with a phone", "phone", { phone: "+4917612345678" }],
    ["email, with an email and a phone", "email", { email: "jane@example.com", phone: "+4917612345678" }],
  ])("the default rules keep it: %s", async (_title, schema, traits) => {
    const app = createTestApp();
    expect((await app.call("registration-after", asked(schema, traits))).status).toBe(204);
    expect(rulesLines(app)).toEqual([]);
  });

  it("asking for default routes as asking for nothing, since the default rules route from it (schemaIdIn), and says so in the log", async () => {
    const app = createTestApp();
    const res = await app.call("registration-after", asked("default", { phone: "+4917612345678" }), {
      headers: { "ory-webhook-request-id": "req-default" },
    });
    expect(await bodyOf(res)).toEqual({ identity: { schema_id: "phone" } });
    expect(rulesLines(app)).toEqual([
      expect.objectContaining({
        msg: "routed away from the schema the client asked for",
        hook: "registration-after",
        requestId: "req-default",
        policy: "routeSchema",
        rule: "phone only",
        schemaId: "phone",
        requestedSchemaId: "default",
      }),
    ]);
  });

  it("a rule that routes elsewhere without listing the asked schema in schemaIdIn is a conflict: SCHEMA_CONFLICT on the field it read", async () => {
    const app = createTestApp({ config: { routeSchema: { rules: [phoneRule] } } });
    const res = await app.call("registration-after", asked("email", { email: "jane@example.com", phone: "+4917612345678" }));
    expect(res.status).toBe(422);
    expect(await bodyOf(res)).toEqual({
      messages: [
        {
          instance_ptr: "#/traits/phone",
          messages: [
            {
              id: 4100303,
              text: "These details belong to a different account type. Go back and choose the sign-up option that matches them.",
              type: "error",
              context: { reason: "schema_conflict", requested_schema_id: "email", schema_id: "phone" },
            },
          ],
        },
      ],
    });
    expect(rulesLines(app)).toEqual([
      expect.objectContaining({
        msg: "refused the schema the client asked for: a routing rule chose another",
        rule: "any phone",
        schemaId: "phone",
        requestedSchemaId: "email",
      }),
    ]);
    expect(app.logs().find((l) => l.msg === "hook call")).toMatchObject({
      decision: "deny",
      policy: "routeSchema",
      messages: ["SCHEMA_CONFLICT"],
    });
  });

  it("the same rule moves the identity when its schemaIdIn lists the asked schema: the operator routes away from it on purpose", async () => {
    // Unnamed: the log names it by its place in the list.
    const app = createTestApp({
      config: { routeSchema: { rules: [{ when: { ...phoneRule.when, schemaIdIn: ["email"] }, schema: "phone" }] } },
    });
    const res = await app.call("registration-after", asked("email", { email: "jane@example.com", phone: "+4917612345678" }));
    expect(await bodyOf(res)).toEqual({ identity: { schema_id: "phone", traits: { phone: "+4917612345678" } } });
    expect(rulesLines(app)).toEqual([
      expect.objectContaining({ msg: "routed away from the schema the client asked for", rule: "rules[0]" }),
    ]);
  });

  it("without a schema asked for (Kratos v1.3.1), the same rule routes as it always did", async () => {
    const app = createTestApp({ config: { routeSchema: { rules: [phoneRule] } } });
    const res = await app.call("registration-after", registration({ email: "jane@example.com", phone: "+4917612345678" }, {}, "email"));
    expect(await bodyOf(res)).toEqual({ identity: { schema_id: "phone", traits: { phone: "+4917612345678" } } });
    expect(rulesLines(app)).toEqual([]);
  });

  it("a rule that routes to the asked schema routes as usual", async () => {
    // Kratos built it on `default` (an earlier hook, say) while the client asked for phone.
    const app = createTestApp();
    const res = await app.call("registration-after", registration({ phone: "+4917612345678" }, { identity_schema: "phone" }));
    expect(await bodyOf(res)).toEqual({ identity: { schema_id: "phone" } });
    expect(rulesLines(app)).toEqual([]);
  });

  it.each([
    ["emailDomainIn: the email trait", { emailDomainIn: ["corp.example"] }, "#/traits/email"],
    ["phoneCountryIn: the phone trait", { phoneCountryIn: ["DE"] }, "#/traits/phone"],
    ["traitPresent: its first trait", { traitPresent: ["phone", "email"] }, "#/traits/phone"],
    ["a condition on no trait: the whole form", { transientPayloadEquals: { plan: "pro" } }, "#/"],
  ])("the conflict's message goes on the field the rule read (%s)", async (_title, when, pointer) => {
    const { BUNDLED_IDENTITY_SCHEMAS } = await import("../../src/config/schema.js");
    const app = createTestApp({
      config: {
        identitySchemas: { ...BUNDLED_IDENTITY_SCHEMAS, staff: STAFF_SCHEMA },
        routeSchema: { rules: [{ when, schema: "staff" }] },
      },
    });
    const body = registration(
      { email: "bob@corp.example", phone: "+4917612345678" },
      { identity_schema: "email", transient_payload: { plan: "pro" } },
      "email",
    );
    const res = await app.call("registration-after", body);
    expect(res.status).toBe(422);
    const json = await bodyOf(res);
    expect(json.messages.map((m: { instance_ptr: string }) => m.instance_ptr)).toEqual([pointer]);
    expect(json.messages[0].messages[0].context).toEqual({ reason: "schema_conflict", requested_schema_id: "email", schema_id: "staff" });
  });

  it("an asked schema id that is not one a config could name is answered, and kept out of the log", async () => {
    const odd = "email schema\u2028<x>";
    const app = createTestApp({ config: { routeSchema: { rules: [phoneRule] } } });
    const res = await app.call("registration-after", registration({ phone: "+4917612345678" }, { identity_schema: odd }));
    expect(res.status).toBe(422);
    expect((await bodyOf(res)).messages[0].messages[0].context.requested_schema_id).toBe(odd);
    expect(rulesLines(app)).toHaveLength(1);
    expect(rulesLines(app)[0]).not.toHaveProperty("requestedSchemaId");
    expect(app.rawLogs()).not.toContain("<x>");
  });
});
