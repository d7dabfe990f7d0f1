// The writer of the wire format (src/kratos/response.ts, behind the real app) and its reader
// (src/kratos/verdict/, what Kratos does with an answer) must agree: whatever the app answers to a
// valid hook call, Kratos goes on, saves or shows our messages; it never ends the flow with a
// generic error. Payloads the app refuses on purpose (400/401/413/415, documented as failing the
// flow) are out of scope: every payload generated here is one Kratos could send.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CONTINUE, type Decision, traitPointer } from "../../src/core/decision.js";
import { decisionProblem } from "../../src/core/decision-check.js";
import { definePolicy } from "../../src/core/define-policy.js";
import { factsOf, HOOK_IDS, type HookId, hooksWhere, isHookId } from "../../src/core/hooks.js";
import { CUSTOM_MESSAGE_ID_BLOCK, isKeptForOurMessages, isKratosMessageId } from "../../src/core/message-ids.js";
import { MESSAGES, type MessageKey } from "../../src/core/messages.js";
import type { Policy } from "../../src/core/policy.js";
import { toVerdict, type VerdictKind } from "../../src/kratos/verdict/index.js";
import { createTestApp, fixtureNames, loadFixture, type TestApp } from "../support/helpers.js";

type Json = Record<string, unknown>;

const REGIONS = ["DE", "FR", "US", "GB", "JP", "IN", "BR"] as const;
const SCHEMAS = ["default", "email", "phone"] as const;
const PHONE_FIELDS = ["phone", "mobile", "contact.mobile"] as const;
const DOMAINS = ["example.com", "example.fr", "corp.example", "mailinator.com", "guerrillamail.com"] as const;

// --- inputs -------------------------------------------------------------------------------

const anyText = fc.oneof(fc.string(), fc.string({ unit: "binary", maxLength: 12 }));

/** Numbers a person types: valid ones in many spellings, and a few that fail each phone rule. */
const typedPhone = fc.constantFrom(
  "+4917612345678",
  "0176 12345678",
  "+49 (0)176 1234-5678",
  "06 12 34 56 78",
  "+33612345678",
  "+1 (415) 555-2671 ext. 12",
  "+14155552671",
  "(415) 555-2671",
  "＋８１ ９０-１２３４-５６７８",
  "+81 90-1234-5678",
  "+49 123",
  "030 1234567",
  "+49 30 1234567",
  "+447400123456",
  "07400 123456",
  "+91 98765 43210",
  "+55 11 91234-5678",
  "+800 1234 5678",
  "",
  "  ",
);

const phone = fc.oneof(
  { weight: 3, arbitrary: typedPhone },
  fc.stringMatching(/^\+?[0-9 ()\-.]{1,20}$/),
  fc.stringMatching(/^[+0-9 ()\-.a-z#;=:\u0660-\u0669\uff10-\uff19]{0,24}$/),
  anyText,
);

const typedEmail = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9._+-]{1,12}$/), fc.constantFrom(...DOMAINS, "sub.corp.example", "Example.COM"))
  .map(([local, domain]) => `${local}@${domain}`);

const email = fc.oneof({ weight: 2, arbitrary: typedEmail }, fc.emailAddress(), anyText);

const json = fc.jsonValue({ maxDepth: 2 });

/** Traits as a sign-up or settings form submits them. */
const formTraits = fc.record(
  { phone: typedPhone, email: typedEmail, contact: fc.record({ mobile: typedPhone }, { requiredKeys: [] }) },
  { requiredKeys: [] },
);

/** Traits a hand-written template or another schema could send: the usual names holding anything. */
const wildTraits = fc.record(
  {
    phone: fc.oneof(phone, json),
    mobile: phone,
    email: fc.oneof(email, json),
    contact: fc.oneof(fc.record({ mobile: fc.oneof(phone, json), email }, { requiredKeys: [] }), json),
    name: fc.oneof(fc.record({ first: anyText, last: anyText }, { requiredKeys: [] }), json),
    extra: fc.dictionary(anyText, json, { maxKeys: 3 }),
  },
  { requiredKeys: [] },
);

const traits = fc.oneof({ weight: 2, arbitrary: formTraits }, { weight: 1, arbitrary: wildTraits });

const metadata = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.record({ blocked: fc.oneof(fc.boolean(), json), plan: fc.oneof(fc.constantFrom("free", "pro"), json) }, { requiredKeys: [] }),
  fc.dictionary(anyText, json, { maxKeys: 3 }),
);

const transientPayload = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.record(
    {
      phone_region: fc.oneof(fc.constantFrom(...REGIONS, "de", "XX", ""), json),
      consent: fc.boolean(),
      referral_code: anyText,
      plan: fc.constantFrom("free", "pro"),
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(anyText, json, { maxKeys: 3 }),
);

const headers = fc.dictionary(
  fc.oneof(fc.constantFrom("User-Agent", "Cf-Ipcountry", "X-Client", "Accept-Language"), anyText),
  fc.oneof(fc.array(fc.oneof(fc.constantFrom(...REGIONS, "curl/8.5.0", "Mozilla/5.0", "bot"), anyText), { maxLength: 2 }), anyText),
  { maxKeys: 4 },
);

const schemaId = fc.oneof(fc.constantFrom(...SCHEMAS), fc.stringMatching(/^[A-Za-z0-9_.-]{1,10}$/));

/** One shipped example, changed the ways a real Kratos call can differ from it. */
const call = fc
  .record({
    example: fc.constantFrom(...fixtureNames()),
    traits,
    keepTraits: fc.boolean(),
    schemaId: fc.option(schemaId, { freq: 2 }),
    metadata,
    transientPayload,
    identitySchema: fc.option(fc.oneof(fc.constantFrom(...SCHEMAS), anyText), { nil: undefined }),
    headers: fc.option(headers),
  })
  .map(({ example, ...change }) => {
    const hook = example.slice(0, example.indexOf("."));
    if (!isHookId(hook)) throw new Error(`kratos/examples/${example}.json: no hook "${hook}"`);
    const ctx = structuredClone(loadFixture(example)) as Json & { flow: Json };
    if (change.transientPayload !== undefined) ctx.flow.transient_payload = change.transientPayload;
    if (change.identitySchema !== undefined) ctx.flow.identity_schema = change.identitySchema;
    if (change.headers !== null) ctx.request_headers = change.headers;
    if (factsOf(hook).hasIdentity) {
      const identity = ctx.identity as Json;
      identity.traits = change.keepTraits ? { ...(identity.traits as Json), ...change.traits } : change.traits;
      if (change.schemaId !== null) identity.schema_id = change.schemaId;
      identity.metadata_public = change.metadata;
    }
    // What the app receives and Kratos holds: JSON, so no undefined members or -0.
    return { hook, ctx: JSON.parse(JSON.stringify(ctx)) as Json };
  });

const condition = fc.record(
  {
    traitPresent: fc.subarray(["phone", "email", "contact.mobile"]),
    traitAbsent: fc.subarray(["phone", "email"]),
    emailDomainIn: fc.subarray([...DOMAINS], { minLength: 1 }),
    phoneCountryIn: fc.subarray([...REGIONS], { minLength: 1 }),
    schemaIdIn: fc.subarray([...SCHEMAS], { minLength: 1 }),
    transientPayloadEquals: fc.dictionary(fc.constantFrom("plan", "consent"), fc.oneof(fc.constantFrom("pro", "free"), fc.boolean())),
  },
  { requiredKeys: [] },
);

/** Mostly `value`, sometimes its opposite. */
const mostly = (value: boolean) => fc.constantFrom(value, value, value, !value);

/** Mostly null: a rule that refuses most input hides the answers the other rules give. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, arbitrary);

/** Configurations the service accepts, reaching every policy that can answer. */
const config = fc.record(
  {
    failMode: fc.constantFrom("open", "closed"),
    normalizePhone: fc.record(
      {
        enabled: mostly(true),
        fields: fc.subarray([...PHONE_FIELDS], { minLength: 1 }),
        defaultRegion: fc.option(fc.constantFrom(...REGIONS)),
        regionHeader: fc.option(fc.constantFrom("Cf-Ipcountry", "X-Client")),
        allowedTypes: rarely(fc.subarray(["MOBILE", "FIXED_LINE_OR_MOBILE", "FIXED_LINE"], { minLength: 1 })),
        allowedCountries: rarely(fc.subarray([...REGIONS], { minLength: 1 })),
        deniedCountries: fc.subarray([...REGIONS], { maxLength: 1 }),
      },
      { requiredKeys: [] },
    ),
    routeSchema: fc.record(
      {
        enabled: mostly(true),
        emailTrait: fc.constantFrom("email", "contact.email"),
        phoneTrait: fc.constantFrom(...PHONE_FIELDS),
        dropUndeclaredTraits: fc.boolean(),
        rules: fc.array(
          fc.record(
            {
              name: fc.string({ maxLength: 8 }),
              when: condition,
              schema: fc.constantFrom(...SCHEMAS),
              metadataPublic: fc.dictionary(fc.constantFrom("plan", "source", "region"), json, { maxKeys: 2 }),
            },
            { requiredKeys: ["when", "schema"] },
          ),
          { maxLength: 3 },
        ),
        guards: fc.array(
          fc.record({ schema: fc.constantFrom(...SCHEMAS), require: condition, field: fc.option(fc.constantFrom("email", "phone")) }),
          { maxLength: 1 },
        ),
      },
      { requiredKeys: [] },
    ),
    denyRules: fc.record(
      {
        enabled: mostly(true),
        emailTraits: fc.subarray(["email", "contact.email"], { minLength: 1 }),
        blockDisposable: fc.boolean(),
        allowDomains: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, fc.subarray([...DOMAINS], { maxLength: 2 })),
        denyDomains: fc.subarray([...DOMAINS], { maxLength: 1 }),
        login: fc.record(
          {
            checkDeniedDomains: fc.boolean(),
            metadataPublic: fc.array(
              fc.record({ key: fc.constantFrom("blocked", "plan"), equals: fc.oneof(fc.boolean(), fc.constantFrom("free", "pro")) }),
              { maxLength: 2 },
            ),
          },
          { requiredKeys: [] },
        ),
        request: fc.record(
          {
            requiredHeaders: fc.subarray(["User-Agent", "X-Client"]),
            denyUserAgents: fc.subarray(["curl", "^bot$", "python-requests"]),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

// --- the property ---------------------------------------------------------------------------

const apps = new Map<string, TestApp>();
/** The app for a configuration, built once per distinct configuration. */
function appFor(raw: unknown): TestApp {
  const key = JSON.stringify(raw);
  let app = apps.get(key);
  if (app === undefined) {
    app = createTestApp({ config: raw });
    apps.set(key, app);
  }
  return app;
}

/** The form nodes `try` hands the verdict (src/cli/try.ts): `ctx.flow.ui.nodes[].attributes.name`. */
function formNodesOf(ctx: Json): string[] | undefined {
  const nodes = ((ctx.flow as Json).ui as Json | undefined)?.nodes;
  if (!Array.isArray(nodes)) return undefined;
  return nodes.map((n) => n?.attributes?.name).filter((n): n is string => typeof n === "string");
}

const KIND_OF_STATUS: Record<number, VerdictKind> = { 204: "continue", 200: "save", 422: "stop" };
const SHOWN = new Set(Object.values(MESSAGES).map(({ id, text }) => `${id} ${text}`));
// The one surprise that is the operator's or the policy's to fix, not the wire format's: a message
// on a field the example's form does not render (a configured `contact.mobile`, say).
const ALLOWED_NOTE = /^the form has no field named /;

async function verdictFor(hook: HookId, ctx: Json, app: TestApp, moreSchemaIds: readonly string[] = []) {
  const res = await app.call(hook, ctx);
  const body = await res.text();
  const identity = ctx.identity as Json | undefined;
  const verdict = toVerdict(
    hook,
    { kind: "answered", status: res.status, body },
    {
      identity,
      formNodes: formNodesOf(ctx),
      // Kratos's identity.schemas: the bundled ones the config routes to, and the identity's own.
      // The schemas themselves are left out: a generated ctx need not be valid for its schema,
      // which a real Kratos guarantees, so re-validating it would test the generator.
      schemaIds: [...SCHEMAS, ...(typeof identity?.schema_id === "string" ? [identity.schema_id] : []), ...moreSchemaIds],
    },
  );
  return { status: res.status, body, verdict };
}

/**
 * The answer does what the app meant: 204 goes on, 200 saves, 422 shows messages from our table
 * and nothing else surprises; and every field a 200 sends is one Kratos applies and changes.
 * `moreSchemaIds`: schemas kratos.yml is taken to have besides the bundled ones and the identity's.
 */
async function expectKratosAgrees(
  hook: HookId,
  ctx: Json,
  app: TestApp,
  shown: ReadonlySet<string> = SHOWN,
  moreSchemaIds: readonly string[] = [],
): Promise<Awaited<ReturnType<typeof verdictFor>>> {
  const answered = await verdictFor(hook, ctx, app, moreSchemaIds);
  const { status, body, verdict } = answered;
  const seen = `${hook} ${status} ${body}\n${verdict.headline}\n${verdict.notes.join("\n")}`;
  expect([200, 204, 422], seen).toContain(status);
  expect(verdict.kind, seen).toBe(KIND_OF_STATUS[status]);
  expect(
    verdict.notes.filter((note) => !ALLOWED_NOTE.test(note)),
    seen,
  ).toEqual([]);
  for (const m of verdict.messages ?? []) {
    expect(isKratosMessageId(m.id), seen).toBe(false);
    // An id from our own part of the block is always our text: a UI localising by id shows ours.
    if (isKeptForOurMessages(m.id)) expect(SHOWN.has(`${m.id} ${m.text}`), seen).toBe(true);
    expect(shown.has(`${m.id} ${m.text}`), seen).toBe(true);
    expect(m.type, seen).toBe("error");
  }
  if (status === 200) {
    const changed = new Set((verdict.changes ?? []).map((c) => c.path.split(".")[0]));
    expect(
      Object.keys(JSON.parse(body).identity).filter((key) => !changed.has(key)),
      seen,
    ).toEqual([]);
  }
  return answered;
}

/**
 * A policy that decides whatever it is given, on the hooks where that decision is allowed; "late"
 * waits until the time budget is spent, so the answer follows `failMode`.
 */
function scripted(decision: Decision | "late"): Policy {
  if (decision === "late") {
    return {
      name: "scripted",
      hooks: hooksWhere(() => true),
      decide: (_, { signal }) => new Promise((resolve) => signal.addEventListener("abort", () => resolve(CONTINUE))),
    };
  }
  return {
    name: "scripted",
    hooks: hooksWhere((facts) => decision.kind !== "patch" || facts.persistsPatch),
    decide: () => decision,
  };
}

const KEYS = Object.keys(MESSAGES) as MessageKey[];

/** Any decision a policy can return: messages on any pointer, whole-object patches, or nothing. */
const decision: fc.Arbitrary<Decision> = fc.oneof(
  fc.constant(CONTINUE),
  fc.record({
    kind: fc.constant("deny" as const),
    // At least one: a deny without messages is a policy failure (answered by failMode,
    // test/core/pipeline.test.ts), since Kratos fails the flow on 422 {"messages":[]}.
    messages: fc.array(
      fc.record({
        key: fc.constantFrom(...KEYS),
        pointer: fc.oneof(
          fc.constantFrom("#/", "#", "", "/traits/phone", "traits.phone", "#/traits/phone", "#/traits/contact/mobile"),
          fc.array(anyText, { maxLength: 3 }).map((tokens) => traitPointer(tokens.join("."))),
          anyText,
        ),
        context: fc.dictionary(anyText, json, { maxKeys: 2 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  }),
  fc.record({
    kind: fc.constant("patch" as const),
    identity: fc.record(
      {
        schemaId: fc.constantFrom(...SCHEMAS),
        traits: fc.dictionary(anyText, json, { maxKeys: 3 }),
        metadataPublic: fc.oneof(fc.constant(null), fc.dictionary(anyText, json, { maxKeys: 2 })),
      },
      { requiredKeys: [] },
    ),
  }),
);

/** Message ids a policy of your own might pick: its own block, Kratos's, ours, anything. */
const customId = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: CUSTOM_MESSAGE_ID_BLOCK.first, max: CUSTOM_MESSAGE_ID_BLOCK.last }) },
  // Ids Kratos shows its own texts for, and ours: as likely as a good one, so a wrong one is met.
  { weight: 3, arbitrary: fc.constantFrom(4_000_001, 1_010_003, 5_000_001, 4_100_001, 4_189_999) },
  fc.constantFrom(4_200_000, 9_000_001, 0, -4_190_001, 4_190_000.5, Number.NaN),
  fc.integer(),
  fc.double(),
);

const customKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("INVITE_REQUIRED", "COUNTRY_CLOSED", "X") },
  fc.constantFrom("invite_required", "PHONE_INVALID", "", "A".repeat(65)),
  anyText,
);

const customText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 80 }) },
  fc.constantFrom("", "  ", "x".repeat(1001)),
  anyText,
);

/** Anything a hand-written decide() might return: well-formed or not, on any hook. */
const customDecision: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: decision },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("deny"),
      messages: fc.array(
        fc.oneof(
          fc.record({
            key: customKey,
            id: customId,
            text: customText,
            pointer: fc.constantFrom("#/", "#/traits/email", "#/traits/phone"),
            context: fc.dictionary(anyText, json, { maxKeys: 2 }),
          }),
          fc.record({
            key: fc.oneof(fc.constantFrom(...KEYS), customKey),
            pointer: fc.constantFrom("#/", 7),
            context: fc.oneof(fc.constant({}), json),
          }),
        ),
        { maxLength: 3 },
      ),
    }),
  },
  fc.record({
    kind: fc.constant("patch"),
    identity: fc.oneof(
      fc.record({ schemaId: fc.oneof(fc.constantFrom(...SCHEMAS), json), metadata_public: json, traits: json }, { requiredKeys: [] }),
      json,
    ),
  }),
  fc.oneof(fc.constant(null), fc.constant({ kind: "allow" }), fc.constant({}), json),
);

describe("the app's answers, read as Kratos reads them", () => {
  it("every answer to a valid call continues, saves or shows our messages; none fails the flow", async () => {
    await fc.assert(
      fc.asyncProperty(call, config, async ({ hook, ctx }, raw) => {
        await expectKratosAgrees(hook, ctx, appFor(raw));
      }),
      { numRuns: 500 },
    );
  });

  it("the same for any decision a policy can return", async () => {
    await fc.assert(
      fc.asyncProperty(
        call,
        fc.oneof({ weight: 5, arbitrary: decision }, fc.constant("late" as const)),
        fc.constantFrom("open", "closed"),
        async ({ hook, ctx }, d, failMode) => {
          await expectKratosAgrees(
            hook,
            ctx,
            createTestApp({ config: { budgetMs: d === "late" ? 1 : 2000, failMode }, policies: [scripted(d)] }),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a policy of your own (definePolicy) is answered as Kratos reads it as meant, or its failure by failMode: never misread", async () => {
    const failed = `${MESSAGES.HOOK_FAILED.id} ${MESSAGES.HOOK_FAILED.text}`;
    let refused = 0;
    let goneOn = 0;
    await fc.assert(
      fc.asyncProperty(
        call,
        customDecision,
        fc.constantFrom(...HOOK_IDS),
        fc.constantFrom("closed", "closed", "open"),
        async ({ hook, ctx }, d, onlyOn, failMode) => {
          const mine = definePolicy({ name: "mine", hooks: [hook, onlyOn], decide: () => d as Decision });
          const app = createTestApp({
            config: { failMode, normalizePhone: { enabled: false }, denyRules: { enabled: false }, routeSchema: { enabled: false } },
            policies: [mine],
          });
          const problem = d === null || typeof d !== "object" ? "not an object" : decisionProblem(d as Decision, hook);
          if (problem !== null) {
            // A decision Kratos would misread is a failure of the policy, never answered as it is:
            // closed, the service's global HOOK_FAILED message (Kratos shows it); open, 204, since
            // "mine" is the only policy and nothing was settled before it. The log names the policy.
            // A broken refusal stays a refusal: closed whatever the configuration says.
            const denying = typeof d === "object" && d !== null && (d as { kind?: unknown }).kind === "deny";
            const applied = denying ? "closed" : failMode;
            const { status, verdict } = await expectKratosAgrees(hook, ctx, app, new Set([failed]));
            const seen = `${hook} ${failMode} ${JSON.stringify(d)}`;
            if (applied === "closed") {
              expect(status, seen).toBe(422);
              expect(
                verdict.messages?.map((m) => `${m.id} ${m.text}`),
                seen,
              ).toEqual([failed]);
              refused += 1;
            } else {
              expect(status, seen).toBe(204);
              goneOn += 1;
            }
            expect(
              app.logs().find((l) => l.msg === "policy failed"),
              seen,
            ).toMatchObject({
              policy: "mine",
              builtIn: false,
              failMode: applied,
              status,
              failure: expect.stringContaining("policy mine on"),
            });
            expect(
              app.logs().find((l) => l.msg === "hook call"),
              seen,
            ).toMatchObject({ decision: "failed", policy: "mine", status });
            return;
          }
          const texts =
            (d as Decision).kind === "deny"
              ? (d as Extract<Decision, { kind: "deny" }>).messages.flatMap((m) => (m.id === undefined ? [] : [`${m.id} ${m.text}`]))
              : [];
          // The schema a policy of your own routes to is the operator's to have in kratos.yml, as
          // routeSchema's targets are checked against identitySchemas when the service starts:
          // a 200 naming one Kratos lacks is read as meant, and fails there ("Unable to find JSON
          // Schema ID"), which no answer of ours can avoid.
          const routed = (d as Decision).kind === "patch" ? (d as Extract<Decision, { kind: "patch" }>).identity.schemaId : undefined;
          await expectKratosAgrees(hook, ctx, app, new Set([...SHOWN, ...texts]), typeof routed === "string" ? [routed] : []);
          expect(app.logs().some((l) => l.msg === "policy failed")).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
    // Both sides were reached: some decisions refused, some let go on, most answered.
    expect(refused).toBeGreaterThan(20);
    expect(goneOn).toBeGreaterThan(5);
  });
});
