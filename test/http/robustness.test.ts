import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HOOK_IDS } from "../../src/core/hooks.js";
import { bodyOf, createTestApp, loadFixture } from "../support/helpers.js";

const OK = [200, 204, 400, 422];

describe("no input makes the service answer 5xx", () => {
  const app = createTestApp({
    config: { normalizePhone: { fields: ["phone", "contact.mobile"] }, denyRules: { emailTraits: ["email", "contact"] } },
  });

  it("arbitrary JSON bodies on every hook", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...HOOK_IDS), fc.jsonValue(), async (hook, body) => {
        const res = await app.call(hook, JSON.stringify(body));
        expect(OK).toContain(res.status);
      }),
      { numRuns: 300 },
    );
  });

  it("well-formed payloads with arbitrary traits, transient payloads and headers", async () => {
    const base = loadFixture("registration-after.password-email") as Record<string, Record<string, unknown>>;
    const phoneish = fc.stringMatching(/^[+0-9 ()\-.a-z#;=:\u0660-\u0669\uff10-\uff19]{0,24}$/);
    const traits = fc.record(
      {
        email: fc.oneof(fc.emailAddress(), fc.string(), fc.jsonValue()),
        phone: fc.oneof(phoneish, fc.jsonValue()),
        contact: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("registration-after", "settings-after", "login-after"),
        traits,
        fc.option(fc.dictionary(fc.string(), fc.jsonValue())),
        fc.dictionary(fc.string(), fc.array(fc.string())),
        fc.constantFrom("default", "email", "phone", "unknown"),
        async (hook, t, transient, headers, schemaId) => {
          const body = {
            ...base,
            flow: { ...base.flow, transient_payload: transient },
            request_headers: headers,
            identity: { ...base.identity, schema_id: schemaId, traits: t },
          };
          const res = await app.call(hook, body);
          expect(OK).toContain(res.status);
          if (res.status === 200) {
            const answer = await bodyOf(res);
            expect(Object.keys(answer)).toEqual(["identity"]);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
