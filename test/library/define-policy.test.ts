// The policy-writing surface as a user imports it: the package's main entry (src/index.ts).
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type Decision,
  defineMessage,
  definePolicy,
  denyAll,
  denyField,
  denyForm,
  type IdentityView,
  type PatchableInput,
  type PolicyContext,
  patch,
  patchExternalId,
  patchMetadataPublic,
  patchSchemaId,
  patchTraits,
  proceed,
  type SessionView,
} from "../../src/index.js";
import { hookInput } from "../support/hook-input.js";
import { policyContext } from "../support/policy-context.js";

const INVITE_REQUIRED = defineMessage({ key: "INVITE_REQUIRED", id: 4_190_001, text: "Sign-up is by invitation only." });

describe("definePolicy", () => {
  it("gives the pipeline a policy with its name, its hooks and its decide", async () => {
    const policy = definePolicy({ name: "invite-only", hooks: ["registration-after", "settings-after"], decide: () => proceed() });
    expect(policy.name).toBe("invite-only");
    expect([...policy.hooks]).toEqual(["registration-after", "settings-after"]);
    expect(await policy.decide(hookInput("registration-after"), policyContext())).toEqual({ kind: "continue" });
    expect(Object.isFrozen(policy)).toBe(true);
  });

  it.each([
    [{ name: "", hooks: ["registration-after"] }, 'definePolicy: name: expected letters, digits, ".", "_" or "-" (at most 64), found ""'],
    [{ name: "has space", hooks: ["registration-after"] }, 'found "has space"'],
    [{ name: "x".repeat(65), hooks: ["registration-after"] }, "(at most 64)"],
    [{ name: "p", hooks: [] }, 'definePolicy(p): hooks: expected at least one hook, e.g. ["registration-after"]'],
    [{ name: "p", hooks: ["registration"] }, 'definePolicy(p): hooks: unknown hook "registration"'],
    [{ name: "p", hooks: ["registration-after"], decide: "no" }, "definePolicy(p): decide: expected a function"],
  ])("refuses %j with a message that names the problem", (spec, message) => {
    expect(() => definePolicy({ decide: () => proceed(), ...spec } as never)).toThrow(message);
  });

  it("types the input by its hooks: an after-hook's identity is there, a before-hook's is not", () => {
    definePolicy({
      name: "typed",
      hooks: ["registration-after"],
      decide(input) {
        expectTypeOf(input.identity).toEqualTypeOf<IdentityView>();
        expectTypeOf(input.hook).toEqualTypeOf<"registration-after">();
        return proceed();
      },
    });
    definePolicy({
      name: "newer-kratos",
      hooks: ["settings-after"],
      decide(input, context) {
        // What Kratos v25.4+/v26.2 adds is optional: v1.3.1 sends none of it.
        expectTypeOf(input.session).toEqualTypeOf<SessionView | undefined>();
        expectTypeOf(input.identity.externalId).toEqualTypeOf<string | null | undefined>();
        expectTypeOf(context.triggerId).toEqualTypeOf<string | undefined>();
        expectTypeOf<PolicyContext>().toHaveProperty("triggerId");
        return proceed();
      },
    });
    definePolicy({
      name: "mixed",
      hooks: ["registration-before", "login-after"],
      decide(input) {
        expectTypeOf(input.identity).toEqualTypeOf<IdentityView | undefined>();
        if (input.hook === "login-after") expectTypeOf(input.identity).toEqualTypeOf<IdentityView>();
        return proceed();
      },
    });
  });
});

describe("defineMessage", () => {
  it("keeps a message of your own with an id from the custom block, or any id outside Kratos's and ours", () => {
    expect(INVITE_REQUIRED).toEqual({ key: "INVITE_REQUIRED", id: 4_190_001, text: "Sign-up is by invitation only." });
    expect(defineMessage({ key: "B", id: 4_199_999, text: "b" }).id).toBe(4_199_999);
    expect(defineMessage({ key: "C", id: 9_000_001, text: "c" }).id).toBe(9_000_001);
  });

  it.each([
    [
      { key: "A", id: 4_000_001, text: "t" },
      "defineMessage: id: 4000001 is in a block Kratos uses for its own texts; use one from 4190000–4199999",
    ],
    [{ key: "A", id: 1_060_001, text: "t" }, "is in a block Kratos uses"],
    [
      { key: "A", id: 4_100_001, text: "t" },
      "defineMessage: id: 4100001 is kept for kratos-hooks's own messages; use one from 4190000–4199999",
    ],
    [{ key: "A", id: 4_189_999, text: "t" }, "is kept for kratos-hooks's own messages"],
    [{ key: "A", id: 0, text: "t" }, "defineMessage: id: expected a positive integer, found 0"],
    [{ key: "A", id: 4_190_000.5, text: "t" }, "expected a positive integer, found 4190000.5"],
    [{ key: "invite", id: 4_190_001, text: "t" }, 'defineMessage: key: expected UPPER_SNAKE_CASE of at most 64 characters, found "invite"'],
    [{ key: "PHONE_INVALID", id: 4_190_001, text: "t" }, "defineMessage: key: PHONE_INVALID is one of kratos-hooks's own messages"],
    [
      { key: "A", id: 4_190_001, text: " " },
      "defineMessage: text: expected the text people read (1 to 1000 characters), found 1 characters",
    ],
    [{ key: "A", id: 4_190_001, text: "x".repeat(1001) }, "found 1001 characters"],
  ])("refuses %j", (message, error) => {
    expect(() => defineMessage(message)).toThrow(error);
  });
});

describe("the decision helpers", () => {
  const after = hookInput("registration-after", {
    traits: { email: "a@example.com", phone: "+4917612345678" },
    metadataPublic: { plan: "free" },
  }) as PatchableInput;

  it("denyField puts a message under a trait's form field, denyForm above the form", () => {
    expect(denyField("address.mobile", INVITE_REQUIRED, { reason: "x" })).toEqual({
      kind: "deny",
      messages: [
        {
          key: "INVITE_REQUIRED",
          id: 4_190_001,
          text: "Sign-up is by invitation only.",
          pointer: "#/traits/address/mobile",
          context: { reason: "x" },
        },
      ],
    });
    expect(denyForm("LOGIN_DENIED")).toEqual({ kind: "deny", messages: [{ key: "LOGIN_DENIED", pointer: "#/", context: {} }] });
  });

  it("deny keeps every message of the decisions it is given, in order", () => {
    const both = denyAll(denyField("email", INVITE_REQUIRED), denyForm("LOGIN_DENIED"), proceed());
    expect((both as Extract<Decision, { kind: "deny" }>).messages.map((m) => m.pointer)).toEqual(["#/traits/email", "#/"]);
  });

  it("refuses a message it cannot answer with", () => {
    expect(() => denyField("email", "NO_SUCH_KEY" as never)).toThrow(
      'unknown message "NO_SUCH_KEY": use defineMessage for a message of your own',
    );
    expect(() => denyForm({ key: "A", id: 4_000_001, text: "t" })).toThrow("message: id: 4000001 is in a block Kratos uses");
  });

  it("patchTraits and patchMetadataPublic keep what they are not told to change", () => {
    expect(patchTraits(after, { phone: "+4930123456" })).toEqual({
      kind: "patch",
      identity: { traits: { email: "a@example.com", phone: "+4930123456" } },
    });
    expect(patchMetadataPublic(after, { signup_country: "DE" })).toEqual({
      kind: "patch",
      identity: { metadataPublic: { plan: "free", signup_country: "DE" } },
    });
    const noMetadata = hookInput("registration-after", { metadataPublic: null }) as PatchableInput;
    expect(patchMetadataPublic(noMetadata, { a: 1 })).toEqual({ kind: "patch", identity: { metadataPublic: { a: 1 } } });
    expect(patchSchemaId("phone")).toEqual({ kind: "patch", identity: { schemaId: "phone" } });
    expect(patchExternalId("crm-42")).toEqual({ kind: "patch", identity: { externalId: "crm-42" } });
    expect(patchExternalId(null)).toEqual({ kind: "patch", identity: { externalId: null } });
    expect(patch({ schemaId: "phone", metadataPublic: null })).toEqual({
      kind: "patch",
      identity: { schemaId: "phone", metadataPublic: null },
    });
  });

  it("patch helpers refuse, at run time too (for JavaScript), a hook whose change Kratos does not save", () => {
    // The types refuse these calls (test/library/types/patch-helpers.ts); a JavaScript caller gets a TypeError.
    expect(() => patchTraits(hookInput("login-before") as never, { a: 1 })).toThrow(
      "patchTraits: Kratos does not save a change made on login-before",
    );
    expect(() => patchMetadataPublic(hookInput("login-after") as never, { a: 1 })).toThrow(
      "patchMetadataPublic: Kratos does not save a change made on login-after",
    );
  });
});
