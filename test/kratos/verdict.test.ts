import { describe, expect, it } from "vitest";
import emailSchema from "../../schemas/email.schema.json" with { type: "json" };
import phoneSchema from "../../schemas/phone.schema.json" with { type: "json" };
import { type DenialEffect, factsOf, HOOK_IDS, type HookId } from "../../src/core/hooks.js";
import { createIdentitySchemaSet } from "../../src/core/identity-schemas.js";
import { exitCodeOf, type HookOutcome, toNodeName, toVerdict } from "../../src/kratos/verdict/index.js";

const identity = { schema_id: "default", traits: { phone: "0176 12345678" }, metadata_public: null, state: "active" };
const answered = (status: number, body: unknown = ""): HookOutcome => ({
  kind: "answered",
  status,
  body: typeof body === "string" ? body : JSON.stringify(body),
});
const messages = (instance_ptr: string, detail: Record<string, unknown> = { id: 4100001, text: "Bad phone", type: "error" }) => ({
  messages: [{ instance_ptr, messages: [detail] }],
});
const context = { identity, formNodes: ["csrf_token", "traits.phone", "password", "method"], schemaIds: ["default", "email", "phone"] };

describe("toVerdict: each kind of answer, read by Kratos's rules", () => {
  it.each([
    ["204", answered(204), "continue"],
    ["200 {}", answered(200, {}), "continue"],
    ["200 null (Go decodes it as no identity)", answered(200, "null"), "continue"],
    ["200 {identity: null}", answered(200, { identity: null }), "continue"],
    ["201 with any body", answered(201, "ignored"), "continue"],
    ["template cancelled", { kind: "cancelled" } as const, "continue"],
    ["200 identity change", answered(200, { identity: { schema_id: "phone", traits: { phone: "+4917612345678" } } }), "save"],
    ["422 messages", answered(422, messages("#/traits/phone")), "stop"],
    ["501 messages (not retried: parsed like a 4xx)", answered(501, messages("#/traits/phone")), "stop"],
    ["200 empty body", answered(200, ""), "fail"],
    ["200 non-JSON", answered(200, "OK"), "fail"],
    ["200 JSON array", answered(200, []), "fail"],
    ["200 identity not an object", answered(200, { identity: "x" }), "fail"],
    ["200 traits null", answered(200, { identity: { traits: null } }), "fail"],
    ["200 schema_id a number", answered(200, { identity: { schema_id: 7 } }), "fail"],
    ["200 undeclared schema", answered(200, { identity: { schema_id: "vip" } }), "fail"],
    ["422 empty body", answered(422, ""), "fail"],
    ["422 without messages", answered(422, { error: "no" }), "fail"],
    ["422 messages: []", answered(422, { messages: [] }), "fail"],
    ["422 id as a string", answered(422, messages("#/traits/phone", { id: "4100001", text: "x", type: "error" })), "fail"],
    ["422 id with a fraction", answered(422, messages("#/traits/phone", { id: 1.5, text: "x", type: "error" })), "fail"],
    ["429 with messages", answered(429, messages("#/traits/phone")), "fail"],
    ["500 with messages", answered(500, messages("#/traits/phone")), "fail"],
    ["503", answered(503, ""), "fail"],
    ["template error", { kind: "template-error", message: "RUNTIME ERROR: field does not exist: x" } as const, "fail"],
    ["unreachable", { kind: "unreachable", message: "ECONNREFUSED" } as const, "fail"],
    ["timeout", { kind: "timeout" } as const, "fail"],
  ])("%s → %s", (_, outcome, kind) => {
    const verdict = toVerdict("registration-after", outcome, context);
    expect(verdict.kind).toBe(kind);
    expect(exitCodeOf(verdict)).toBe(kind === "continue" || kind === "save" ? 0 : 1);
  });
});

describe("toVerdict: what the verdict says", () => {
  it("lists each changed value, and the identity Kratos stores", () => {
    const verdict = toVerdict(
      "registration-after",
      answered(200, { identity: { schema_id: "phone", traits: { phone: "+4917612345678" }, metadata_public: { plan: "free" } } }),
      context,
    );
    expect(verdict.changes).toEqual([
      { path: "schema_id", before: "default", after: "phone" },
      { path: "traits.phone", before: "0176 12345678", after: "+4917612345678" },
      { path: "metadata_public", before: null, after: { plan: "free" } },
    ]);
    expect(verdict.identity).toEqual({ schema_id: "phone", traits: { phone: "+4917612345678" }, metadata_public: { plan: "free" } });
  });

  it("shows traits the answer leaves out as removed: Kratos replaces traits whole", () => {
    const verdict = toVerdict("settings-after", answered(200, { identity: { traits: { email: "a@example.com" } } }), {
      identity: { schema_id: "email", traits: { email: "a@example.com", phone: "+4917612345678" }, metadata_public: null },
    });
    expect(verdict.kind).toBe("save");
    expect(verdict.changes).toEqual([{ path: "traits.phone", before: "+4917612345678", after: undefined }]);
  });

  it("re-validates the changed identity against the target schema, as Kratos does", () => {
    const schemas = createIdentitySchemaSet({ email: emailSchema, phone: phoneSchema });
    const verdict = toVerdict(
      "registration-after",
      answered(200, { identity: { schema_id: "phone", traits: { phone: "0176 12345678" } } }),
      {
        ...context,
        schemas,
      },
    );
    expect(verdict.kind).toBe("fail");
    expect(verdict.headline).toContain('not valid for schema "phone"');
    expect(verdict.headline).toContain("#/traits/phone");
  });

  it("names the message, its node and its id; a global pointer shows as a global message", () => {
    const stop = toVerdict("registration-after", answered(422, messages("#/traits/phone")), context);
    expect(stop.messages).toEqual([{ node: "traits.phone", id: 4100001, text: "Bad phone", type: "error" }]);
    expect(stop.headline).toBe('Kratos stops the flow and shows: "Bad phone" under traits.phone (id 4100001); no identity is created');
    expect(stop.notes).toEqual([]);
    const global = toVerdict("login-after", answered(403, messages("#/")), context);
    expect(global.messages?.[0]?.node).toBeNull();
    expect(global.headline).toContain("as a global message");
    expect(global.headline).toContain("no session is issued");
  });

  it("warns about junk nodes, info-typed messages and ids Kratos owns", () => {
    const verdict = toVerdict(
      "registration-after",
      answered(400, {
        messages: [
          { instance_ptr: "#", messages: [{ id: 4000001, text: "a", type: "warning" }] },
          { instance_ptr: "#/traits/email", messages: [{ id: 9000001, text: "b", type: "error" }] },
        ],
      }),
      context,
    );
    expect(verdict.kind).toBe("stop");
    expect(verdict.messages?.map((m) => [m.node, m.type])).toEqual([
      ["#", "info"],
      ["traits.email", "error"],
    ]);
    expect(verdict.notes.join("\n")).toMatch(/does not start with "#\/"/);
    expect(verdict.notes.join("\n")).toMatch(/shows it as "info"/);
    expect(verdict.notes.join("\n")).toMatch(/4000001 is in a range Kratos uses/);
    expect(verdict.notes.join("\n")).toMatch(/no field named traits.email/);
  });

  it("before-hooks: a refusal stops the flow without showing the text; an identity answer crashes Kratos", () => {
    const refused = toVerdict("registration-before", answered(422, messages("#/")), {});
    expect(refused.kind).toBe("stop");
    expect(refused.headline).toMatch(/your text is not shown/);
    const patched = toVerdict("login-before", answered(200, { identity: { traits: { a: 1 } } }), {});
    expect(patched.kind).toBe("fail");
    expect(patched.reason).toMatch(/nil identity/);
    expect(toVerdict("login-before", answered(200, { identity: {} }), {}).kind).toBe("continue");
  });

  it("an inactive state on registration: saved, and the note says the session is then refused", () => {
    const verdict = toVerdict("registration-after", answered(200, { identity: { state: "inactive" } }), context);
    expect(verdict.kind).toBe("save");
    expect(verdict.changes).toEqual([{ path: "state", before: "active", after: "inactive" }]);
    expect(verdict.notes).toEqual([
      'state "inactive": Kratos creates the identity, then refuses its session ("This account was disabled.", 400)',
    ]);
  });

  it("login-after: an identity change is not saved", () => {
    const verdict = toVerdict("login-after", answered(200, { identity: { metadata_public: { seen: true } } }), context);
    expect(verdict.kind).toBe("continue");
    expect(verdict.headline).toMatch(/not saved/);
    expect(verdict.changes).toEqual([{ path: "metadata_public", before: null, after: { seen: true } }]);
  });

  it("5xx and 429: says the messages are never shown", () => {
    const verdict = toVerdict("registration-after", answered(503, messages("#/traits/phone")), context);
    expect(verdict.headline).toBe("Kratos fails the flow with a generic error because the hook answered 503");
    expect(verdict.notes).toEqual(["the messages in this 503 body are never shown: send them with a 4xx such as 422"]);
  });
});

describe("toVerdict: what a refusal costs follows the hook's `denial` in HOOKS", () => {
  const refusal = (ptr: string) => answered(422, messages(ptr));
  const cases: [HookId, DenialEffect, string][] = [
    [
      "registration-before",
      "flow-not-created",
      "Kratos refuses to create the registration flow; your text is not shown: an API client gets an error (HTTP 500 on Kratos v1.3.1), a browser is sent to the error page",
    ],
    [
      "login-before",
      "flow-not-created",
      "Kratos refuses to create the login flow; your text is not shown: an API client gets an error (HTTP 404 and the flow on Kratos v1.3.1), a browser is sent to the error page",
    ],
    [
      "registration-after",
      "identity-not-created",
      'Kratos stops the flow and shows: "Bad phone" under traits.phone (id 4100001); no identity is created',
    ],
    ["login-after", "no-session", 'Kratos stops the flow and shows: "Bad phone" under traits.phone (id 4100001); no session is issued'],
    [
      "settings-after",
      "identity-not-updated",
      'Kratos stops the flow and shows: "Bad phone" under traits.phone (id 4100001); the identity is not updated',
    ],
  ];

  it("covers every hook and every denial effect", () => {
    expect(cases.map(([hook]) => hook).sort()).toEqual([...HOOK_IDS].sort());
    expect(new Set(cases.map(([, denial]) => denial))).toEqual(
      new Set<DenialEffect>(["flow-not-created", "identity-not-created", "no-session", "identity-not-updated"]),
    );
  });

  it.each(cases)("%s (%s)", (hook, denial, headline) => {
    expect(factsOf(hook).denial).toBe(denial);
    const verdict = toVerdict(hook, refusal("#/traits/phone"), factsOf(hook).hasIdentity ? context : {});
    expect(verdict.kind).toBe("stop");
    expect(verdict.headline).toBe(headline);
  });
});

describe("toVerdict: whether an identity answer is saved follows `persistsPatch` and `createsIdentity`", () => {
  const patch = answered(200, { identity: { state: "inactive", traits: { phone: "+4917612345678" } } });

  it.each([
    ["registration-after", "save", "Kratos saves the new identity with these changes"],
    ["settings-after", "save", "Kratos saves the identity with these changes"],
    ["login-after", "continue", "Kratos continues; the identity changes are not saved"],
  ] as const)("%s → %s", (hook, kind, headline) => {
    const verdict = toVerdict(hook, patch, context);
    expect(verdict.kind).toBe(kind);
    expect(verdict.headline).toBe(headline);
    // Only a new identity is then refused its session for the inactive state.
    expect(verdict.notes.some((n) => n.includes("refuses its session"))).toBe(factsOf(hook).createsIdentity);
  });

  it.each(["registration-before", "login-before"] as const)("%s: no identity to patch, Kratos crashes", (hook) => {
    expect(toVerdict(hook, patch, {}).kind).toBe("fail");
  });
});

describe("toNodeName (ory/x JSONPointerToDotNotation)", () => {
  it.each([
    ["#/traits/email", "traits.email"],
    ["#/traits/a~1b", "traits.a/b"],
    ["#/traits/a.b", "traits.a\\.b"],
    ["#/traits/x%20y", "traits.x y"],
    ["#/", null],
    ["", null],
    ["#", "#"],
    ["/traits/email", "/traits/email"],
  ])("%j → %j", (pointer, node) => {
    expect(toNodeName(pointer)).toBe(node);
  });
});
