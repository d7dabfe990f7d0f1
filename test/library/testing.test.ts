// kratos-hooks/testing as a user imports it (src/testing.ts): real policies through the real app,
// answers read by the verdict engine `kratos-hooks try` uses.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { builtIn } from "../../src/core/policy.js";
import {
  createApp,
  type Decision,
  defineMessage,
  definePolicy,
  denyField,
  denyForm,
  MESSAGES,
  PolicyBugError,
  parseConfig,
  patchMetadataPublic,
  patchSchemaId,
  patchTraits,
  proceed,
} from "../../src/index.js";
import { EXAMPLE_TEXTS } from "../../src/testing/examples.js";
import { callHook, DEFAULT_EXAMPLES, exampleCtx, exampleNames, type HookApp, hookCtx, runPolicy, type Verdict } from "../../src/testing.js";
import { outcomeOf } from "../support/examples.js";
import { FIXTURES_DIR, fixtureNames, loadFixture } from "../support/helpers.js";

const SILENT = { info() {}, warn() {}, error() {} };
const INVITE_REQUIRED = defineMessage({ key: "INVITE_REQUIRED", id: 4_190_001, text: "Sign-up is by invitation only." });

const inviteOnly = definePolicy({
  name: "invite-only",
  hooks: ["registration-after"],
  decide: (input) => (input.identity.traits.email === "invited@example.com" ? proceed() : denyField("email", INVITE_REQUIRED)),
});
const plan = definePolicy({
  name: "plan",
  hooks: ["registration-after"],
  decide: (input) => patchMetadataPublic(input, { plan: "pro" }),
});

/** The messages without their context, which the built-in ones carry for the UI. */
function shown(verdict: Verdict) {
  return verdict.messages.map(({ field, id, text }) => ({ field, id, text }));
}

/** What Kratos does with a policy's failure, read from the real answer (the app follows `failMode`). */
function expectFailureAsKratosReadsIt(verdict: Verdict, policyText: string) {
  if (verdict.status >= 500) {
    expect(verdict.kind).toBe("fail");
    expect(verdict.explanation).toMatch(/retries/);
  } else if (verdict.status >= 400) {
    expect(verdict.kind).toBe("refuse");
    expect(verdict.messages.length).toBeGreaterThan(0);
    expect(verdict.messages.every((m) => m.field === null)).toBe(true);
  } else {
    // failMode open: the flow goes on, with what the policies before had decided.
    expect(verdict.kind).toBe(verdict.status === 200 ? "save" : "continue");
  }
  // Whatever the answer, nothing of the broken policy reaches the person.
  expect(verdict.text).not.toContain(policyText);
}

describe("hookCtx and exampleCtx: the ctx Kratos sends", () => {
  it("embeds every shipped example, in sync with kratos/examples/*.json (else run `npm run examples:embed`)", () => {
    expect(Object.keys(EXAMPLE_TEXTS).sort()).toEqual(fixtureNames());
    for (const name of fixtureNames()) {
      expect(JSON.parse(EXAMPLE_TEXTS[name] ?? "null"), name).toEqual(loadFixture(name));
    }
    expect(readdirSync(FIXTURES_DIR).length).toBe(fixtureNames().length);
  });

  it.each(fixtureNames())("builds %s as the file holds it, tagged with its hook", async (name) => {
    const ctx = exampleCtx(name);
    expect(JSON.parse(JSON.stringify(ctx))).toEqual(loadFixture(name));
    const hook = name.slice(0, name.indexOf("."));
    expect(exampleNames(hook as never)).toContain(name);
    // The tag names the route: a policy on every hook sees this hook.
    const seen: string[] = [];
    const all = definePolicy({
      name: "all",
      hooks: ["registration-before", "registration-after", "login-before", "login-after", "settings-after"],
      decide: (input) => {
        seen.push(input.hook);
        return proceed();
      },
    });
    expect((await runPolicy(all, ctx)).kind).toBe("continue");
    expect(seen).toEqual([hook]);
  });

  it("lists the examples as the files are named, all or a hook's", () => {
    expect(exampleNames()).toEqual(fixtureNames());
    expect(exampleNames("login-after")).toEqual(["login-after.blocked-account", "login-after.password", "login-after.phone"]);
    for (const [hook, scenario] of Object.entries(DEFAULT_EXAMPLES)) expect(exampleNames()).toContain(`${hook}.${scenario}`);
  });

  it("starts from the hook's default example and replaces what is given; a fresh copy each time", () => {
    const ctx = hookCtx("registration-after", {
      traits: { email: "a@example.com", phone: "0176 12345678" },
      schemaId: "default",
      metadataPublic: { plan: "free" },
      transientPayload: { phone_region: "AT" },
      requestedSchemaId: "phone",
    });
    const example = exampleCtx("registration-after.password-phone-national");
    expect(ctx.identity).toEqual({
      ...example.identity,
      traits: { email: "a@example.com", phone: "0176 12345678" },
      metadata_public: { plan: "free" },
    });
    expect(ctx.flow.transient_payload).toEqual({ phone_region: "AT" });
    expect(ctx.flow.identity_schema).toBe("phone");
    expect(ctx.request_cookies).toEqual(example.request_cookies);
    // The person submitted an email: the form has an input for it.
    const names = (ctx.flow.ui as { nodes: { attributes: { name: string } }[] }).nodes.map((n) => n.attributes.name);
    expect(names).toEqual(["csrf_token", "traits.phone", "password", "method", "traits.email"]);
    ctx.identity.traits.email = "changed@example.com";
    expect(hookCtx("registration-after").identity.traits).toEqual({ phone: "0176 12345678" });
    // JSON.stringify gives the body exactly: the hook tag is not part of it.
    expect(Object.keys(JSON.parse(JSON.stringify(ctx)))).toEqual(Object.keys(example));
  });

  it("merges headers by name as Kratos names them, and removes what is null", () => {
    const ctx = hookCtx("registration-before", {
      headers: { "user-agent": "python-requests/2.32", accept: null, "X-Trace": ["a", "b"] },
      allowHeaders: ["x-trace"],
    });
    expect(ctx.request_headers["User-Agent"]).toEqual(["python-requests/2.32"]);
    expect(ctx.request_headers.Accept).toBeUndefined();
    expect(ctx.request_headers["X-Trace"]).toEqual(["a", "b"]);
    expect(Object.keys(ctx.request_headers).filter((k) => k.toLowerCase() === "user-agent")).toEqual(["User-Agent"]);
  });

  it("refuses a request header Kratos does not forward, unless allowHeaders says kratos.yml's allowlist has it", () => {
    // Kratos's 17 default names pass, in any case; removing any header is fine.
    expect(hookCtx("login-before", { headers: { "true-client-ip": "203.0.113.7", "X-Gone": null } }).request_headers).toMatchObject({
      "True-Client-Ip": ["203.0.113.7"],
    });
    const region = () => hookCtx("registration-after", { headers: { "Cf-Ipcountry": "DE" } });
    expect(region).toThrow(TypeError);
    expect(region).toThrow(
      "hookCtx(registration-after): headers.Cf-Ipcountry: Kratos does not forward this request header to web_hooks unless kratos.yml's clients.web_hook.header_allowlist lists it",
    );
    expect(region).toThrow('allowHeaders: ["Cf-Ipcountry"]');
    const allowed = hookCtx("registration-after", { headers: { "Cf-Ipcountry": "DE" }, allowHeaders: ["CF-IPCountry"] });
    expect(allowed.request_headers["Cf-Ipcountry"]).toEqual(["DE"]);
    expect(() => hookCtx("registration-after", { headers: { "X-Client-Version": "2" }, allowHeaders: ["Cf-Ipcountry"] })).toThrow(
      "headers.X-Client-Version: Kratos does not forward",
    );
  });

  it("refuses a transient payload on settings-after, which Kratos v26.2 does not pass there; other hooks keep it", () => {
    for (const input of [{ transientPayload: { phone_region: "DE" } }, { flow: { transient_payload: { phone_region: "DE" } } }]) {
      const call = () => hookCtx("settings-after", input);
      expect(call).toThrow(TypeError);
      expect(call).toThrow("Kratos v26.2.0 does not pass flow.transient_payload to settings hooks");
    }
    expect(hookCtx("settings-after", { transientPayload: null }).flow).not.toHaveProperty("transient_payload");
    expect(hookCtx("registration-after", { transientPayload: { phone_region: "AT" } }).flow.transient_payload).toEqual({
      phone_region: "AT",
    });
  });

  it("starts from another example, or from a ctx of your own, filled in as Kratos would send it", () => {
    expect(hookCtx("settings-after", { from: "profile-phone-changed" }).identity.traits).toEqual({ phone: "+49 (0)176 1234-5678" });
    expect(hookCtx("settings-after", { from: "settings-after.profile-phone-changed" }).identity.schema_id).toBe("phone");
    const own = hookCtx("login-after", { from: { identity: { schema_id: "email", traits: { email: "j@example.com" } } }, session: null });
    expect(own).toMatchObject({ flow: { type: "api" }, request_headers: {}, identity: { metadata_public: null } });
    expect(hookCtx("registration-after", { transientPayload: null }).flow).not.toHaveProperty("transient_payload");
  });

  it.each([
    [
      () => hookCtx("registration" as never),
      'hookCtx: unknown hook "registration"; the hooks are: registration-before, registration-after',
    ],
    [() => hookCtx("registration-after", null as never), "hookCtx(registration-after): expected an object of ctx fields"],
    [() => hookCtx("registration-after", [] as never), "found an array"],
    [() => hookCtx("registration-after", "traits" as never), 'found string "traits"'],
    [() => hookCtx("registration-after", { trait: {} } as never), 'unknown field "trait"; the fields are: from, traits'],
    [() => hookCtx("registration-after", { traits: "a@example.com" } as never), 'traits: expected an object, found string "a@example.com"'],
    [() => hookCtx("registration-after", { schemaId: "" }), 'schemaId: expected a non-empty string, found string ""'],
    [() => hookCtx("registration-after", { headers: { "User-Agent": 7 } } as never), "headers.User-Agent: expected a string"],
    [() => hookCtx("registration-after", { allowHeaders: "Cf-Ipcountry" } as never), "allowHeaders: expected an array of header names"],
    [() => hookCtx("login-before", { traits: {} }), "hookCtx(login-before): traits: login-before has no identity"],
    [
      () => hookCtx("login-after", { from: "no-such" }),
      'from: no shipped example "no-such"; the examples are: login-after.blocked-account',
    ],
    [() => hookCtx("login-after", { from: { flow: {} } }), 'the ctx has no "identity" object, which Kratos always sends to login-after'],
    [
      () => exampleCtx("login-after.no-such"),
      'exampleCtx: no shipped example "login-after.no-such"; the examples for login-after are: login-after.',
    ],
    [() => exampleCtx("nothing"), 'exampleCtx: no shipped example "nothing"; the examples are: login-after.blocked-account'],
    [() => exampleNames("login" as never), 'exampleNames: unknown hook "login"'],
  ])("refuses bad input with a TypeError naming the problem (%#)", (call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });
});

describe("runPolicy: one policy through the real app, read as Kratos reads it", () => {
  it("a denial: the message under the field it names, as Kratos shows it", async () => {
    const verdict = await runPolicy(inviteOnly, hookCtx("registration-after", { traits: { email: "stranger@example.com" } }));
    expect(verdict).toMatchObject({ kind: "refuse", status: 422, changes: [] });
    expect(verdict.identity).toBeUndefined();
    expect(verdict.messages).toEqual([{ field: "traits.email", id: 4_190_001, text: "Sign-up is by invitation only." }]);
    expect(verdict.explanation).toContain("no identity is created");
    expect(verdict.notes).toEqual([]);
    expect(verdict.body).toEqual(JSON.parse(verdict.text));
  });

  it("a form-wide denial has no field; a message's context is kept when it has one", async () => {
    const closed = definePolicy({
      name: "closed",
      hooks: ["registration-after"],
      decide: () => denyForm(INVITE_REQUIRED, { until: "May" }),
    });
    const verdict = await runPolicy(closed, "registration-after", {});
    expect(verdict.messages).toEqual([{ field: null, id: 4_190_001, text: "Sign-up is by invitation only.", context: { until: "May" } }]);
  });

  it("a before-hook's denial refuses the flow; Kratos shows no form for it", async () => {
    const noScripts = definePolicy({ name: "no-scripts", hooks: ["registration-before"], decide: () => denyForm(INVITE_REQUIRED) });
    const verdict = await runPolicy(noScripts, "registration-before", { headers: { "User-Agent": "curl/8.5.0" } });
    expect(verdict.kind).toBe("refuse");
    expect(verdict.explanation).toMatch(/refuses to create the registration flow; your text is not shown/);
  });

  it("after the built-in policies: the national number in E.164, the schema routed, the whole identity Kratos saves", async () => {
    const ctx = hookCtx("registration-after", { traits: { email: "invited@example.com", phone: "0176 12345678" } });
    const verdict = await runPolicy([inviteOnly, plan], ctx, { withBuiltIns: true });
    expect(verdict.kind, verdict.explanation).toBe("save");
    expect(verdict.identity).toEqual({
      ...ctx.identity,
      schema_id: "email",
      traits: { email: "invited@example.com", phone: "+4917612345678" },
      metadata_public: { plan: "pro" },
    });
    expect(verdict.changes).toEqual([
      { path: "schema_id", before: "default", after: "email" },
      { path: "traits.phone", before: "0176 12345678", after: "+4917612345678" },
      { path: "metadata_public", before: null, after: { plan: "pro" } },
    ]);
    expect(verdict.body).toEqual({ identity: { schema_id: "email", traits: verdict.identity?.traits, metadata_public: { plan: "pro" } } });
  });

  it("alone, the built-in policies do not run; the configuration reaches them when they do", async () => {
    const ctx = hookCtx("registration-after", { traits: { phone: "030 1234567" }, transientPayload: null });
    const alone = await runPolicy(plan, ctx);
    expect(alone.identity).toMatchObject({ schema_id: "default", traits: { phone: "030 1234567" }, metadata_public: { plan: "pro" } });
    const withBuiltIns = await runPolicy(plan, ctx, { withBuiltIns: true });
    const { id: intlId, text: intlText } = MESSAGES.PHONE_NEEDS_INTERNATIONAL_FORMAT;
    expect(shown(withBuiltIns)).toEqual([{ field: "traits.phone", id: intlId, text: intlText }]);
    const configured = await runPolicy(plan, ctx, {
      withBuiltIns: true,
      config: { normalizePhone: { defaultRegion: "DE" }, routeSchema: { enabled: false } },
    });
    expect(configured.identity).toMatchObject({ schema_id: "default", traits: { phone: "+49301234567" } });
  });

  it("a change Kratos would refuse: not valid for the target schema, or a schema kratos.yml lacks", async () => {
    const toEmail = definePolicy({ name: "to-email", hooks: ["registration-after"], decide: () => patchSchemaId("email") });
    const invalid = await runPolicy(toEmail, "registration-after", { traits: { phone: "+4917612345678" } });
    expect(invalid.kind).toBe("fail");
    expect(invalid.explanation).toContain('not valid for schema "email"');
    const unlisted = await runPolicy(
      toEmail,
      "registration-after",
      { traits: { email: "a@example.com" } },
      { schemaIds: ["default", "phone"] },
    );
    expect(unlisted.kind).toBe("fail");
    expect(unlisted.explanation).toContain('schema_id "email" is not in kratos.yml identity.schemas');
  });

  it("a decision Kratos would misread is answered as the app answers a policy's bug, read as Kratos reads that", async () => {
    const broken = definePolicy({
      name: "broken",
      hooks: ["registration-after"],
      decide: () => ({ kind: "deny", messages: [] }) as unknown as Decision,
    });
    const verdict = await runPolicy(broken, "registration-after", {}, { expectFailure: true });
    expectFailureAsKratosReadsIt(verdict, "broken");
    expect(verdict.failure).toEqual({
      policy: "broken",
      message: "policy broken on registration-after returned a decision the service refuses: denied without a message",
    });
  });

  it.each(["closed", "open"])("a thrown error, with failMode %s: what Kratos does with the app's answer", async (failMode) => {
    const throwing = definePolicy({
      name: "throwing",
      hooks: ["registration-after"],
      decide: () => {
        throw new Error("database is down at 10.0.0.7");
      },
    });
    const verdict = await runPolicy(throwing, hookCtx("registration-after"), {
      config: { failMode },
      withBuiltIns: true,
      expectFailure: true,
    });
    expectFailureAsKratosReadsIt(verdict, "10.0.0.7");
    expect(verdict.failure).toEqual({
      policy: "throwing",
      message: "policy throwing on registration-after threw: database is down at 10.0.0.7",
    });
  });

  it("a policy that crashes makes runPolicy throw, naming it, though the service's answer reads as a refusal", async () => {
    const typo = definePolicy({
      name: "typo",
      hooks: ["registration-after"],
      decide: (input) =>
        (input.identity.traits.emial as string).toLowerCase().endsWith("@closed.example") ? denyField("email", INVITE_REQUIRED) : proceed(),
    });
    const ctx = hookCtx("registration-after", { traits: { email: "a@closed.example" } });
    const error = await runPolicy(typo, ctx).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PolicyBugError);
    expect((error as Error).message).toMatch(/^runPolicy: policy typo on registration-after threw: .*toLowerCase/);
    expect((error as Error).message).toContain('(here 422, read as "refuse")');
    expect((error as Error).message).toContain("Pass { expectFailure: true }");
    expect((error as Error).cause).toBeInstanceOf(TypeError);
    // Among others, after the built-ins, async: the same.
    const asyncTypo = definePolicy({
      name: "async-typo",
      hooks: ["registration-after"],
      decide: async (input) => {
        await Promise.resolve();
        return (input.identity.traits.emial as string).toLowerCase() === "" ? proceed() : proceed();
      },
    });
    await expect(runPolicy([plan, asyncTypo], ctx, { withBuiltIns: true })).rejects.toThrow(
      /^runPolicy: policy async-typo on registration-after threw: /,
    );
    // A decision the service refuses: thrown too.
    const patchOnLogin = definePolicy({ name: "patch-on-login", hooks: ["login-after"], decide: () => patchSchemaId("email") as never });
    await expect(runPolicy(patchOnLogin, hookCtx("login-after"))).rejects.toThrow(
      "runPolicy: policy patch-on-login on login-after returned a decision the service refuses: patched the identity on login-after",
    );
    // expectFailure: the verdict, with the failure; a policy that did not fail has none.
    const expected = await runPolicy(typo, ctx, { expectFailure: true });
    expect(expected).toMatchObject({ kind: "refuse", status: 422, failure: { policy: "typo" } });
    expect((await runPolicy(inviteOnly, ctx, { expectFailure: true })).failure).toBeUndefined();
  });

  it("a built-in policy is run as it is, not watched: its failure is answered closed, as the service does", async () => {
    const failingBuiltIn = builtIn(
      definePolicy({
        name: "failing-built-in",
        hooks: ["registration-after"],
        decide: () => {
          throw new Error("a bug in kratos-hooks");
        },
      }),
    );
    const verdict = await runPolicy([failingBuiltIn, plan], hookCtx("registration-after"), { config: { failMode: "open" } });
    expect(verdict).toMatchObject({ kind: "refuse", status: 422 });
    expect(verdict.failure).toBeUndefined();
  });

  it("passes headers to the app and the policy's log lines to a logger", async () => {
    const lines: string[] = [];
    const trigger = "6f1c2b8e-3d4a-4f5b-9c7d-8e9fa0b1c2d3";
    const logs = definePolicy({
      name: "logs",
      hooks: ["settings-after"],
      decide: (input, context) => {
        context.logger.info({ triggerId: context.triggerId }, "seen");
        return patchTraits(input, { phone: "+4917600000000" });
      },
    });
    const verdict = await runPolicy(logs, hookCtx("settings-after"), {
      headers: { "Ory-Webhook-Trigger-ID": trigger },
      logger: { info: (fields, message) => lines.push(`${message} ${JSON.stringify(fields.triggerId)}`), warn() {}, error() {} },
    });
    expect(verdict.kind).toBe("save");
    expect(verdict.identity?.traits).toEqual({ phone: "+4917600000000" });
    expect(lines).toContain(`seen "${trigger}"`);
  });

  it("refuses what cannot be run with a TypeError", async () => {
    const loginOnly = definePolicy({ name: "login-only", hooks: ["login-after"], decide: () => proceed() });
    await expect(runPolicy(loginOnly, hookCtx("registration-after"))).rejects.toThrow(
      "runPolicy: login-only (login-after) does not run on registration-after",
    );
    await expect(runPolicy(plan, loadFixture("registration-after.password-email") as never)).rejects.toThrow(
      "runPolicy: expected a ctx from hookCtx or exampleCtx",
    );
    await expect(runPolicy({ name: "x" } as never, hookCtx("registration-after"))).rejects.toThrow(TypeError);
    await expect(runPolicy(plan, "registration" as never, {})).rejects.toThrow('hookCtx: unknown hook "registration"');
  });
});

describe("callHook: an app of your own", () => {
  const KEY = "callhook-test-key-0123456789";
  const app = createApp({ config: parseConfig(), apiKeys: [KEY], logger: SILENT });

  it.each(fixtureNames())("reads the default app's answer to %s as `try` does (test/support/examples.ts)", async (name) => {
    const verdict = await callHook(app, exampleCtx(name), { apiKey: KEY });
    const expected = outcomeOf(name);
    expect(verdict.kind).toBe(expected.kind === "stop" ? "refuse" : expected.kind);
    if (expected.kind === "stop") expect(verdict.messages.map((m) => [m.field, m.id])).toEqual(expected.messages);
    if (expected.kind === "save") {
      expect(verdict.changes.map((c) => [c.path, c.after])).toEqual(expected.changes);
      for (const [path, after] of expected.changes) expect(readPath(verdict.identity, path)).toEqual(after);
    }
  });

  it("calls a fetch handler or an object with fetch, and says when the key is missing", async () => {
    const ctx = exampleCtx("registration-after.phone-invalid");
    const handler: HookApp = (request) => app.fetch(request);
    const viaFunction = await callHook(handler, ctx, { apiKey: KEY });
    const viaObject = await callHook({ fetch: (request: Request) => app.fetch(request) }, ctx, { apiKey: KEY });
    expect(viaFunction).toEqual(viaObject);
    expect(shown(viaFunction)).toEqual([{ field: "traits.phone", id: MESSAGES.PHONE_INVALID.id, text: MESSAGES.PHONE_INVALID.text }]);
    const unauthenticated = await callHook(app, ctx);
    expect(unauthenticated.kind).toBe("fail");
    expect(unauthenticated.notes).toContain("the app wants a key: pass callHook(app, ctx, { apiKey })");
  });

  it("says nothing of a failure inside the app: it did not build it, so verdict.failure stays undefined", async () => {
    const throwing = definePolicy({
      name: "throwing",
      hooks: ["registration-after"],
      decide: () => {
        throw new Error("down");
      },
    });
    const mine = createApp({ config: parseConfig(), apiKeys: [KEY], logger: SILENT, policies: [throwing] });
    const verdict = await callHook(mine, hookCtx("registration-after"), { apiKey: KEY });
    expect(verdict).toMatchObject({ kind: "refuse", status: 422 });
    expect(verdict.failure).toBeUndefined();
  });

  it("re-validates a saved identity against the schemas it is given", async () => {
    const toEmail = definePolicy({ name: "to-email", hooks: ["registration-after"], decide: () => patchSchemaId("email") });
    const mine = createApp({ config: parseConfig(), apiKeys: [KEY], logger: SILENT, policies: [toEmail] });
    const ctx = hookCtx("registration-after", { traits: { phone: "+4917612345678" } });
    expect((await callHook(mine, ctx, { apiKey: KEY })).kind).toBe("save");
    const checked = await callHook(mine, ctx, { apiKey: KEY, identitySchemas: parseConfig().identitySchemas });
    expect(checked.kind).toBe("fail");
  });
});

function readPath(root: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);
}
