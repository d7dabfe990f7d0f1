import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KratosStandIn, startKratosStandIn } from "../support/kratos-standin.js";
import { codeIn } from "./courier-sink.js";
import { passwordSignUp } from "./kratos-client.js";
import { kratosAtLeast, useStack } from "./stack.js";

// The Kratos stand-in of the shield's benchmark (test/support/kratos-standin.ts) against the real
// Kratos: the same requests to both, and the same answer in what the shield reads from it (status,
// flow type and `state`, message ids, session or session_token, the Location's shape, the names of
// the cookies set). Straight to Kratos, no gateway, with the shipped kratos.yml: password and code
// login on a phone identifier (the `phone` schema, where our registration hook routes a phone).
// The stand-in answers as v26.2.0; where v1.3.1 answers otherwise, the test says what it does.

const e2e = useStack();
const V25_4 = kratosAtLeast("v25.4.0");
let standin: KratosStandIn;

const PHONE = "+4917655501001";
const PHONE_SPACED = "+49 176 5550 1001";
const EMAIL = "standin.agreement@example.org";
const PASSWORD = "stand-in agreement password 1";
/** kratos.yml's ui_urls and default_browser_return_url; the stand-in's defaults are the same. */
const UI = "http://127.0.0.1:3000";

interface Target {
  name: "kratos" | "stand-in";
  url: string;
  /** A mark to count texts to `to` from. */
  textMark(to: string): number;
  /** Codes texted to `to` with `template` since `mark` (Kratos: the courier sink, which lags; waits for `expected`). */
  texted(to: string, template: string, mark: number, expected: number): Promise<string[]>;
}

const kratos = (): Target => ({
  name: "kratos",
  url: e2e.stack.kratosPublic,
  textMark: () => e2e.stack.sink.messages.length,
  async texted(to, template, mark, expected) {
    const sink = e2e.stack.sink;
    if (expected > 0) await sink.waitFor(to, template, mark);
    else {
      // The courier sends from a queue it polls: a text queued after (a fence) shows it is done.
      const fence = await createFlow(this, "login", "api");
      await submit(this, "login", fence.id, { method: "code", identifier: PHONE });
      await sink.waitFor(PHONE, "login_code_valid", mark);
    }
    return sink.messages
      .slice(mark)
      .filter((m) => m.channel === "sms" && m.to === to && m.template_type === template)
      .map(codeIn);
  },
});

/** The stand-in counts texts per number, and keeps the last code of each. */
const standIn = (): Target => ({
  name: "stand-in",
  url: standin.url,
  textMark: (to) => standin.counts.smsSent.get(to) ?? 0,
  async texted(to, _template, mark) {
    const count = (standin.counts.smsSent.get(to) ?? 0) - mark;
    return Array.from({ length: count }, () => standin.lastCode(to) ?? "");
  },
});

const targets = (): [Target, Target] => [kratos(), standIn()];

interface Seen {
  status: number;
  type?: string;
  state?: string;
  messages: number[];
  nodeMessages: Record<string, number[]>;
  session: boolean;
  sessionToken: boolean;
  identity: boolean;
  error?: string | number;
  location?: string;
  cookies: string[];
}

interface Flow {
  id: string;
  cookie: string;
  csrf: string;
}

/** What the shield reads from an answer, with the flow id and the base_url hash named rather than spelled. */
async function see(t: Target, res: Response, flowId?: string): Promise<Seen> {
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  const ui = body.ui as { messages?: { id: number }[]; nodes: { attributes: { name?: string }; messages: { id: number }[] }[] } | undefined;
  const nodeMessages: Record<string, number[]> = {};
  for (const node of ui?.nodes ?? []) {
    if (node.messages.length > 0) nodeMessages[node.attributes.name ?? "?"] = node.messages.map((m) => m.id);
  }
  const hash = createHash("sha256").update(new URL(t.url).href).digest("hex");
  const location = res.headers.get("location") ?? undefined;
  const error = body.error as { id?: string; code?: number } | undefined;
  return {
    status: res.status,
    ...(typeof body.type === "string" && { type: body.type }),
    ...(typeof body.state === "string" && { state: body.state }),
    messages: (ui?.messages ?? []).map((m) => m.id),
    nodeMessages,
    session: body.session !== undefined && body.session !== null,
    sessionToken: typeof body.session_token === "string",
    identity: body.identity !== undefined,
    ...(error !== undefined && { error: error.id ?? error.code }),
    ...(location !== undefined && {
      location: location
        .replace(flowId === undefined ? /^$/ : `flow=${flowId}`, "flow=<this flow>")
        .replace(/([?&](?:flow|id)=)[0-9a-f-]{36}/, "$1<uuid>"),
    }),
    cookies: res.headers
      .getSetCookie()
      .map((line) => line.slice(0, line.indexOf("=")))
      .map((name) => (name === `csrf_token_${hash}` ? "csrf_token_<sha256 of base_url>" : name))
      .sort(),
  };
}

function jar(res: Response, previous = ""): string {
  const cookies = new Map(
    previous
      .split("; ")
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)] as const),
  );
  for (const line of res.headers.getSetCookie()) {
    const pair = line.slice(0, line.indexOf(";"));
    cookies.set(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
  }
  return [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
}

async function createFlow(t: Target, kind: "login" | "registration", type: "api" | "browser", query = ""): Promise<Flow> {
  const res = await fetch(`${t.url}/self-service/${kind}/${type}${query}`, { headers: { Accept: "application/json" }, redirect: "manual" });
  const body = (await res.json()) as { id: string; ui: { nodes: { attributes: { name?: string; value?: string } }[] } };
  if (res.status !== 200) throw new Error(`${t.name}: creating a ${type} ${kind} flow answered ${res.status}`);
  const csrf = body.ui.nodes.find((n) => n.attributes.name === "csrf_token")?.attributes.value ?? "";
  return { id: body.id, cookie: jar(res), csrf };
}

type Encoding = "json" | "form";

function submit(
  t: Target,
  kind: "login" | "registration",
  flowId: string,
  payload: Record<string, unknown>,
  options: { encoding?: Encoding; headers?: Record<string, string> } = {},
): Promise<Response> {
  const form = options.encoding === "form";
  const flat = (value: Record<string, unknown>, prefix = ""): [string, string][] =>
    Object.entries(value).flatMap(([key, inner]) =>
      inner !== null && typeof inner === "object"
        ? flat(inner as Record<string, unknown>, `${prefix}${key}.`)
        : [[`${prefix}${key}`, String(inner)] as [string, string]],
    );
  return fetch(`${t.url}/self-service/${kind}?flow=${flowId}`, {
    method: "POST",
    redirect: "manual",
    headers: form
      ? { "Content-Type": "application/x-www-form-urlencoded", ...options.headers }
      : { Accept: "application/json", "Content-Type": "application/json", ...options.headers },
    body: form ? new URLSearchParams(flat(payload)).toString() : JSON.stringify(payload),
  });
}

async function fetchFlow(t: Target, kind: "login" | "registration", flow: Flow): Promise<Seen> {
  const res = await fetch(`${t.url}/self-service/${kind}/flows?id=${flow.id}`, {
    headers: { Accept: "application/json", ...(flow.cookie !== "" && { Cookie: flow.cookie }) },
  });
  return see(t, res, flow.id);
}

/** Runs `scenario` on Kratos, then on the stand-in, and returns both observations. */
async function onBoth<T>(scenario: (t: Target) => Promise<T>): Promise<{ kratos: T; standin: T }> {
  const [k, s] = targets();
  return { kratos: await scenario(k), standin: await scenario(s) };
}

const flowAnswer = (fields: Partial<Seen>): Seen => ({
  status: 400,
  messages: [],
  nodeMessages: {},
  session: false,
  sessionToken: false,
  identity: false,
  cookies: [],
  ...fields,
});

beforeAll(async () => {
  for (const traits of [{ phone: PHONE }, { email: EMAIL }] as Record<string, string>[]) {
    const res = await e2e.kratos.run("registration", passwordSignUp(traits, undefined, PASSWORD));
    if (res.status !== 200) throw new Error(`seeding Kratos with ${JSON.stringify(traits)} answered ${res.status}`);
  }
  standin = await startKratosStandIn({
    users: [
      { identifier: PHONE, password: PASSWORD },
      { identifier: EMAIL, password: PASSWORD },
    ],
  });
});

afterAll(async () => {
  await standin?.close();
});

describe("creating flows", () => {
  it.each(["login", "registration"] as const)("%s API flow: 200, type api, choose_method, no message, no cookie", async (kind) => {
    const seen = await onBoth(async (t) =>
      see(t, await fetch(`${t.url}/self-service/${kind}/api`, { headers: { Accept: "application/json" } })),
    );
    expect(seen.kratos).toEqual(flowAnswer({ status: 200, type: "api", state: "choose_method" }));
    expect(seen.standin).toEqual(seen.kratos);
  });

  it("login browser flow: a 303 to the login UI with ?flow= and the CSRF cookie; asked for JSON, 200 with the flow and the cookie", async () => {
    const seen = await onBoth(async (t) => ({
      page: await see(t, await fetch(`${t.url}/self-service/login/browser`, { redirect: "manual" })),
      json: await see(
        t,
        await fetch(`${t.url}/self-service/login/browser`, { headers: { Accept: "application/json" }, redirect: "manual" }),
      ),
    }));
    expect(seen.kratos).toEqual({
      page: flowAnswer({ status: 303, location: `${UI}/login?flow=<uuid>`, cookies: ["csrf_token_<sha256 of base_url>"] }),
      json: flowAnswer({ status: 200, type: "browser", state: "choose_method", cookies: ["csrf_token_<sha256 of base_url>"] }),
    });
    expect(seen.standin).toEqual(seen.kratos);
  });

  it("an unknown flow: 404 when fetched or submitted to; a nil or missing flow id: 400", async () => {
    const payload = { method: "password", identifier: PHONE, password: PASSWORD };
    const seen = await onBoth(async (t) => {
      const unknown = crypto.randomUUID();
      return {
        fetched: await see(t, await fetch(`${t.url}/self-service/login/flows?id=${unknown}`, { headers: { Accept: "application/json" } })),
        submitted: await see(t, await submit(t, "login", unknown, payload)),
        nil: await see(t, await submit(t, "login", "00000000-0000-0000-0000-000000000000", payload)),
        missing: await see(t, await submit(t, "login", "", payload)),
      };
    });
    expect(seen.kratos).toEqual({
      fetched: flowAnswer({ status: 404, error: 404, cookies: ["csrf_token_<sha256 of base_url>"] }),
      submitted: flowAnswer({ status: 404, error: 404 }),
      nil: flowAnswer({ status: 400, error: 400 }),
      missing: flowAnswer({ status: 400, error: 400 }),
    });
    expect(seen.standin).toEqual(seen.kratos);
  });
});

describe("password login, API flow", () => {
  it("the right password: 200 with a session and a session_token, no cookie", async () => {
    const seen = await onBoth(async (t) => {
      const flow = await createFlow(t, "login", "api");
      return see(t, await submit(t, "login", flow.id, { method: "password", identifier: PHONE, password: PASSWORD }));
    });
    expect(seen.kratos).toEqual(flowAnswer({ status: 200, session: true, sessionToken: true }));
    expect(seen.standin).toEqual(seen.kratos);
  });

  it("the right password as a form post to an API flow: the same JSON answer", async () => {
    const seen = await onBoth(async (t) => {
      const flow = await createFlow(t, "login", "api");
      return see(t, await submit(t, "login", flow.id, { method: "password", identifier: PHONE, password: PASSWORD }, { encoding: "form" }));
    });
    expect(seen.kratos).toEqual(flowAnswer({ status: 200, session: true, sessionToken: true }));
    expect(seen.standin).toEqual(seen.kratos);
  });

  it("a wrong password or an unknown identifier: 400 with 4000006, and the flow fetched afterwards carries it", async () => {
    const seen = await onBoth(async (t) => {
      const flow = await createFlow(t, "login", "api");
      const wrong = await see(t, await submit(t, "login", flow.id, { method: "password", identifier: PHONE, password: "not it" }));
      const fetched = await fetchFlow(t, "login", flow);
      const unknown = await see(t, await submit(t, "login", flow.id, { method: "password", identifier: "+4917655509999", password: "x" }));
      return { wrong, fetched, unknown };
    });
    const failed = flowAnswer({ type: "api", state: "choose_method", messages: [4000006] });
    expect(seen.kratos).toEqual({
      wrong: failed,
      fetched: { ...failed, status: 200, cookies: ["csrf_token_<sha256 of base_url>"] },
      unknown: failed,
    });
    expect(seen.standin).toEqual(seen.kratos);
  });

  it("the identifier is lower-cased and trimmed, nothing more: an email in capitals signs in, a spaced phone fails", async () => {
    const seen = await onBoth(async (t) => {
      const email = await createFlow(t, "login", "api");
      const phone = await createFlow(t, "login", "api");
      return {
        email: await see(
          t,
          await submit(t, "login", email.id, { method: "password", identifier: `  ${EMAIL.toUpperCase()} `, password: PASSWORD }),
        ),
        phone: await see(t, await submit(t, "login", phone.id, { method: "password", identifier: PHONE_SPACED, password: PASSWORD })),
      };
    });
    expect(seen.kratos).toEqual({
      email: flowAnswer({ status: 200, session: true, sessionToken: true }),
      phone: flowAnswer({ type: "api", state: "choose_method", messages: [4000006] }),
    });
    expect(seen.standin).toEqual(seen.kratos);
  });

  it("a native flow refuses a Cookie or an Origin header (4000001), but not a Cloudflare cookie", async () => {
    const seen = await onBoth(async (t) => {
      const flow = await createFlow(t, "login", "api");
      const payload = { method: "password", identifier: PHONE, password: PASSWORD };
      return {
        cookie: await see(t, await submit(t, "login", flow.id, payload, { headers: { Cookie: "session=1" } })),
        origin: await see(t, await submit(t, "login", flow.id, payload, { headers: { Origin: "http://127.0.0.1:3000" } })),
        cloudflare: await see(t, await submit(t, "login", flow.id, payload, { headers: { Cookie: "__cf_bm=1; cf_clearance=2" } })),
      };
    });
    const refused = flowAnswer({ type: "api", state: "choose_method", messages: [4000001] });
    expect(seen.kratos).toEqual({
      cookie: refused,
      origin: refused,
      cloudflare: flowAnswer({ status: 200, session: true, sessionToken: true }),
    });
    expect(seen.standin).toEqual(seen.kratos);
  });
});

describe("password login, browser flow", () => {
  it("form post: wrong → 303 to the login UI with this ?flow=, the flow then carries 4000006; right → 303 to the return URL with a session cookie and a new CSRF cookie", async () => {
    const seen = await onBoth(async (t) => {
      const flow = await createFlow(t, "login", "browser");
      const form = { encoding: "form" as const, headers: { Cookie: flow.cookie } };
      const wrong = await see(
        t,
        await submit(t, "login", flow.id, { method: "password", identifier: PHONE, password: "nope", csrf_token: flow.csrf }, form),
        flow.id,
      );
      const fetched = await fetchFlow(t, "login", flow);
      const right = await see(
        t,
        await submit(t, "login", flow.id, { method: "password", identifier: PHONE, password: PASSWORD, csrf_token: flow.csrf }, form),
      );
      return { wrong, fetched, right };
    });
    expect(seen.kratos).toEqual({
      wrong: flowAnswer({ status: 303, location: `${UI}/login?flow=<this flow>` }),
      fetched: flowAnswer({ status: 200, type: "browser", state: "choose_method", messages: [4000006] }),
      right: flowAnswer({ status: 303, location: `${UI}/`, cookies: ["csrf_token_<sha256 of base_url>", "ory_kratos_session"] }),
    });
    expect(seen.standin).toEqual(seen.kratos);
  });

  it("JSON: wrong → 400 with 4000006; right → 200 with a session and no token, the session cookie and a new CSRF cookie", async () => {
    const seen = await onBoth(async (t) => {
      const flow = await createFlow(t, "login", "browser");
      const headers = { headers: { Cookie: flow.cookie } };
      return {
        wrong: await see(
          t,
          await submit(t, "login", flow.id, { method: "password", identifier: PHONE, password: "nope", csrf_token: flow.csrf }, headers),
        ),
        right: await see(
          t,
          await submit(t, "login", flow.id, { method: "password", identifier: PHONE, password: PASSWORD, csrf_token: flow.csrf }, headers),
        ),
      };
    });
    expect(seen.kratos).toEqual({
      wrong: flowAnswer({ type: "browser", state: "choose_method", messages: [4000006] }),
      right: flowAnswer({ status: 200, session: true, cookies: ["csrf_token_<sha256 of base_url>", "ory_kratos_session"] }),
    });
    expect(seen.standin).toEqual(seen.kratos);
  });

  it("without the CSRF token: 403 security_csrf_violation in JSON, a 303 to the error UI for a form", async () => {
    const seen = await onBoth(async (t) => {
      const flow = await createFlow(t, "login", "browser");
      const payload = { method: "password", identifier: PHONE, password: PASSWORD };
      return {
        json: await see(t, await submit(t, "login", flow.id, payload, { headers: { Cookie: flow.cookie } })),
        form: await see(t, await submit(t, "login", flow.id, payload, { encoding: "form", headers: { Cookie: flow.cookie } })),
      };
    });
    expect(seen.kratos).toEqual({
      json: flowAnswer({ status: 403, error: "security_csrf_violation" }),
      form: flowAnswer({ status: 303, location: `${UI}/error?id=<uuid>` }),
    });
    expect(seen.standin).toEqual(seen.kratos);
  });
});

describe("code login (SMS)", () => {
  it("step 1 for a known phone, typed E.164 or spaced: 400, sent_email, 1010014, one login text to the number", async () => {
    const seen = await onBoth(async (t) => {
      const answers: Seen[] = [];
      for (const identifier of [PHONE, PHONE_SPACED]) {
        const flow = await createFlow(t, "login", "api");
        const mark = t.textMark(PHONE);
        answers.push(await see(t, await submit(t, "login", flow.id, { method: "code", identifier })));
        answers.push({ ...flowAnswer({}), status: (await t.texted(PHONE, "login_code_valid", mark, 1)).length });
      }
      return answers;
    });
    const sent = flowAnswer({ type: "api", state: "sent_email", messages: [1010014] });
    const oneText = { ...flowAnswer({}), status: 1 };
    expect(seen.kratos).toEqual([sent, oneText, sent, oneText]);
    expect(seen.standin).toEqual(seen.kratos);
  });

  it("step 1 for an unknown phone: 400, choose_method, 4000035, no text", async () => {
    const unknown = "+4917655509998";
    const seen = await onBoth(async (t) => {
      const flow = await createFlow(t, "login", "api");
      const mark = t.textMark(unknown);
      const answer = await see(t, await submit(t, "login", flow.id, { method: "code", identifier: unknown }));
      return { answer, texts: (await t.texted(unknown, "login_code_valid", mark, 0)).length };
    });
    expect(seen.kratos).toEqual({ answer: flowAnswer({ type: "api", state: "choose_method", messages: [4000035] }), texts: 0 });
    expect(seen.standin).toEqual(seen.kratos);
  });

  it("step 2: a wrong code → 400, still sent_email, 4010008; the texted code → 200 with a session_token", async () => {
    const seen = await onBoth(async (t) => {
      const flow = await createFlow(t, "login", "api");
      const mark = t.textMark(PHONE);
      await submit(t, "login", flow.id, { method: "code", identifier: PHONE });
      const [code = ""] = (await t.texted(PHONE, "login_code_valid", mark, 1)).slice(-1);
      const wrong = code === "000000" ? "111111" : "000000";
      return {
        wrong: await see(t, await submit(t, "login", flow.id, { method: "code", identifier: PHONE, code: wrong })),
        right: await see(t, await submit(t, "login", flow.id, { method: "code", identifier: PHONE, code })),
      };
    });
    expect(seen.kratos).toEqual({
      wrong: flowAnswer({ type: "api", state: "sent_email", messages: [4010008] }),
      right: flowAnswer({ status: 200, session: true, sessionToken: true }),
    });
    expect(seen.standin).toEqual(seen.kratos);
  });

  it("step 1 as a browser form post: 303 to the login UI with this ?flow=; the flow then shows sent_email and 1010014", async () => {
    const seen = await onBoth(async (t) => {
      const flow = await createFlow(t, "login", "browser");
      const mark = t.textMark(PHONE);
      const answer = await see(
        t,
        await submit(
          t,
          "login",
          flow.id,
          { method: "code", identifier: PHONE, csrf_token: flow.csrf },
          { encoding: "form", headers: { Cookie: flow.cookie } },
        ),
        flow.id,
      );
      const fetched = await fetchFlow(t, "login", flow);
      return { answer, fetched, texts: (await t.texted(PHONE, "login_code_valid", mark, 1)).length };
    });
    expect(seen.kratos).toEqual({
      answer: flowAnswer({ status: 303, location: `${UI}/login?flow=<this flow>` }),
      fetched: flowAnswer({ status: 200, type: "browser", state: "sent_email", messages: [1010014] }),
      texts: 1,
    });
    expect(seen.standin).toEqual(seen.kratos);
  });
});

describe("registration by code with a phone (?identity_schema=phone)", () => {
  // The stand-in answers as v25.4+. v1.3.1 ignores ?identity_schema=: the flow stays on `default`,
  // whose phone is no code identifier, so Kratos finds none (4000009) and texts nothing.
  const v1_3_1 = flowAnswer({ type: "api", state: "choose_method", messages: [4000009] });

  it("a new number, and one already registered: 400, sent_email, 1040005, a registration text each (v1.3.1: 4000009, none)", async () => {
    const seen = await onBoth(async (t) => {
      const answers: unknown[] = [];
      for (const phone of ["+4917655502001", PHONE]) {
        const flow = await createFlow(t, "registration", "api", "?identity_schema=phone");
        const mark = t.textMark(phone);
        const answer = await see(t, await submit(t, "registration", flow.id, { method: "code", traits: { phone } }));
        const expected = t.name === "stand-in" || V25_4 ? 1 : 0;
        answers.push({ answer, texts: (await t.texted(phone, "registration_code_valid", mark, expected)).length });
      }
      return answers;
    });
    const sent = { answer: flowAnswer({ type: "api", state: "sent_email", messages: [1040005] }), texts: 1 };
    expect(seen.standin).toEqual([sent, sent]);
    if (V25_4) expect(seen.kratos).toEqual(seen.standin);
    else
      expect(seen.kratos).toEqual([
        { answer: v1_3_1, texts: 0 },
        { answer: v1_3_1, texts: 0 },
      ]);
  });

  it("a national number: 400 with 4000041 on traits.phone (v1.3.1: 4000009)", async () => {
    const seen = await onBoth(async (t) => {
      const flow = await createFlow(t, "registration", "api", "?identity_schema=phone");
      return see(t, await submit(t, "registration", flow.id, { method: "code", traits: { phone: "0176 5550 2002" } }));
    });
    expect(seen.standin).toEqual(flowAnswer({ type: "api", state: "choose_method", nodeMessages: { "traits.phone": [4000041] } }));
    if (V25_4) expect(seen.kratos).toEqual(seen.standin);
    else expect(seen.kratos).toEqual(v1_3_1);
  });

  it("as browser form posts: the code sent → 303 to the registration UI with this ?flow=, a national number → 302 there (v1.3.1: 302, 4000009)", async () => {
    const seen = await onBoth(async (t) => {
      const answers: unknown[] = [];
      for (const phone of ["+4917655502003", "0176 5550 2004"]) {
        const flow = await createFlow(t, "registration", "browser", "?identity_schema=phone");
        const form = { encoding: "form" as const, headers: { Cookie: flow.cookie } };
        const answer = await see(
          t,
          await submit(t, "registration", flow.id, { method: "code", traits: { phone }, csrf_token: flow.csrf }, form),
          flow.id,
        );
        answers.push({ answer, fetched: await fetchFlow(t, "registration", flow) });
      }
      return answers;
    });
    // registration/error.go answers a browser with 302 Found; the code strategy's own redirect is a 303.
    const back = (status: number) => flowAnswer({ status, location: `${UI}/registration?flow=<this flow>` });
    const shown = (fields: Partial<Seen>) => flowAnswer({ status: 200, type: "browser", ...fields });
    expect(seen.standin).toEqual([
      { answer: back(303), fetched: shown({ state: "sent_email", messages: [1040005] }) },
      { answer: back(302), fetched: shown({ state: "choose_method", nodeMessages: { "traits.phone": [4000041] } }) },
    ]);
    if (V25_4) expect(seen.kratos).toEqual(seen.standin);
    else {
      const refused = { answer: back(302), fetched: shown({ state: "choose_method", messages: [4000009] }) };
      expect(seen.kratos).toEqual([refused, refused]);
    }
  });
});

describe("Kratos", () => {
  it("never failed to read one of our answers", () => {
    expect(e2e.stack.misreadAnswers()).toEqual([]);
  });
});
