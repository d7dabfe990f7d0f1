import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createPinoLogger } from "../../src/adapters/node-logger.js";
import { parseConfig } from "../../src/config/parse.js";
import type { ShieldRecord } from "../../src/core/metrics.js";
import { createGateway } from "../../src/gateway/app.js";
import { createFetchRuntime, getWorkersConnInfo } from "../../src/gateway/fetch-runtime.js";
import { MemoryStore } from "../../src/gateway/shield/memory-store.js";
import { createShield } from "../../src/gateway/shield/shield.js";
import type { ShieldStore } from "../../src/gateway/shield/store.js";
import type { Answer, Received } from "../support/upstream.js";
import { useUpstream } from "../support/upstream.js";

const upstream = useUpstream();

const UI = "https://app.example.test/login";
const SECRET = "a-test-secret-of-some-length";

/**
 * Kratos's login as the shield reads it (the shapes test/e2e checks against the real Kratos):
 * a password login for one account per identifier, a code login that "sends" an SMS; JSON
 * answers for JSON requests, a 303 to the UI for form posts, and the flow with its last message.
 */
function kratosLike(accounts: Record<string, string>) {
  const sent: string[] = [];
  const lastMessage = new Map<string, number>();
  const flowOf = (id: string, messageId?: number, state = "choose_method") => ({
    id,
    type: "api",
    state,
    ui: {
      action: `https://auth.example.test/self-service/login?flow=${id}`,
      method: "POST",
      nodes: [],
      messages:
        messageId === undefined ? [] : [{ id: messageId, type: messageId >= 4000000 ? "error" : "info", text: `text ${messageId}` }],
    },
  });
  const answer = (request: Received): Answer => {
    const url = new URL(request.url, "http://kratos");
    const flow = url.searchParams.get("flow") ?? url.searchParams.get("id") ?? "none";
    if (request.method === "GET" && /^\/self-service\/(login|registration|settings|recovery)\/flows$/.test(url.pathname)) {
      const id = lastMessage.get(flow);
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(flowOf(flow, id, id === 1010014 ? "sent_email" : "choose_method")),
      };
    }
    const other = /^\/self-service\/(registration|settings|recovery)$/.exec(url.pathname);
    if (other !== null && request.method === "POST") {
      if (request.body.toString().includes('"password":"weak"')) {
        return { status: 400, headers: { "content-type": "application/json" }, body: JSON.stringify(flowOf(flow, 4000005)) };
      }
      sent.push(`${other[1]}`);
      return { status: 400, headers: { "content-type": "application/json" }, body: JSON.stringify(flowOf(flow, 1040005, "sent_email")) };
    }
    if (url.pathname !== "/self-service/login") return { status: 404, body: "" };
    const form = !String(request.headers["content-type"]).includes("json");
    const fields: Record<string, string> = form
      ? Object.fromEntries(new URLSearchParams(request.body.toString()))
      : (JSON.parse(request.body.toString()) as Record<string, string>);
    const identifier = (fields.identifier ?? "").trim().toLowerCase();
    let messageId: number;
    if (fields.method === "code" && fields.code === undefined) {
      // v26.2.0's answer for an account that does not exist: 4000035, and nothing sent.
      if (accounts[identifier] === undefined) messageId = 4000035;
      else {
        sent.push(identifier);
        messageId = 1010014;
      }
    } else if (accounts[identifier] !== undefined && accounts[identifier] === fields.password) {
      if (form)
        return { status: 303, headers: { location: "https://app.example.test/home", "set-cookie": ["ory_kratos_session=s; Path=/"] } };
      return {
        status: 200,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ session_token: "tok", session: { id: "s" } }),
      };
    } else messageId = 4000006;
    lastMessage.set(flow, messageId);
    if (form) return { status: 303, headers: { location: `${UI}?flow=${flow}` } };
    return {
      status: 400,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(flowOf(flow, messageId, messageId === 1010014 ? "sent_email" : "choose_method")),
    };
  };
  return { answer, sent };
}

function setup(settings: Record<string, unknown> = {}, options: { store?: ShieldStore; config?: Record<string, unknown> } = {}) {
  let output = "";
  const sink = new Writable({
    write(chunk, _encoding, done) {
      output += chunk.toString();
      done();
    },
  });
  const config = parseConfig(
    { normalizePhone: { defaultRegion: "DE" }, ...options.config, gateway: { shield: { uiUrls: { login: UI }, ...settings } } },
    "test",
  );
  const events: ShieldRecord[] = [];
  const shield = createShield({
    config: config.gateway.shield,
    store: options.store ?? new MemoryStore(),
    secret: SECRET,
    allowedCountries: config.normalizePhone.allowedCountries,
    deniedCountries: config.normalizePhone.deniedCountries,
  });
  const app = createGateway({
    config,
    upstream: new URL(upstream.url),
    logger: createPinoLogger("info", sink),
    runtime: createFetchRuntime(),
    // Cloudflare's reading of the client, as on Workers: CF-Connecting-IP names it.
    connInfo: getWorkersConnInfo,
    metrics: { hookCall: () => {}, gatewayRequest: () => {}, shield: (record) => events.push(record) },
    shield,
  });
  const kratos = kratosLike({ "+4917612345678": "right", "+4917612345679": "right", "jane@example.com": "right" });
  upstream.answer = kratos.answer;
  const logins = () => upstream.received.filter((r) => r.method === "POST").length;
  return { app, kratos, logins, events, shield, log: () => output };
}

/** A login submit as a native app (API flow) sends it, from `client`. */
function login(identifier: string, password: string, client = "203.0.113.7", headers: Record<string, string> = {}, flow = "f1") {
  return new Request(`https://auth.example.test/self-service/login?flow=${flow}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", "cf-connecting-ip": client, ...headers },
    body: JSON.stringify({ method: "password", identifier, password }),
  });
}

async function messagesOf(res: Response): Promise<{ id: number; text: string; context: Record<string, unknown> }[]> {
  const body = (await res.json()) as { ui?: { messages?: { id: number; text: string; context: Record<string, unknown> }[] } };
  return body.ui?.messages ?? [];
}

const NO_DELAY = { login: { delayAfter: 10, lockAfter: 10 } };

describe("shield: login protection, counted on the normalized identifier", () => {
  it("wrong passwords in national, spaced and E.164 form share one counter and end in a lock Kratos never sees", async () => {
    const { app, logins } = setup(NO_DELAY);
    const spellings = ["0176 1234 5678", "+49 176 1234 5678", "+4917612345678", "0176-12345678", "(0176) 1234 5678"];
    for (let i = 0; i < 10; i++) {
      const res = await app.request(login(spellings[i % spellings.length] as string, "wrong"));
      expect(res.status).toBe(400);
      expect((await messagesOf(res)).map((m) => m.id)).toEqual([4000006]);
    }
    const locked = await app.request(login("+49 176 12345678", "right"));
    expect(locked.status).toBe(400);
    const [message] = await messagesOf(locked);
    expect(message?.id).toBe(4100402);
    expect(message?.text).toMatch(/Try again in \d+ minutes\.$/);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(800);
    // The lock's answer is the flow as Kratos serves it, with the shield's message added.
    expect(logins()).toBe(10);
  });

  it("the right password during the lock is refused, and succeeds once the window is over", async () => {
    const { app, logins } = setup({ login: { windowSeconds: 1, delayAfter: 3, lockAfter: 3 } });
    for (let i = 0; i < 3; i++) await app.request(login("0176 1234 5678", "wrong"));
    const refused = await app.request(login("0176 1234 5678", "right"));
    expect((await messagesOf(refused))[0]?.id).toBe(4100402);
    expect(logins()).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const after = await app.request(login("0176 1234 5678", "right"));
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ session_token: "tok" });
  });

  it("a success resets the identifier's counters", async () => {
    const { app } = setup({ login: { delayAfter: 10, lockAfter: 10, clientLockAfter: 100 } });
    for (let i = 0; i < 9; i++) await app.request(login("+4917612345678", "wrong"));
    expect((await app.request(login("+4917612345678", "right"))).status).toBe(200);
    // Nine more failures after the success: no lock (it would be at the tenth without the reset).
    for (let i = 0; i < 9; i++) expect((await messagesOf(await app.request(login("0176 1234 5678", "wrong"))))[0]?.id).toBe(4000006);
  });

  it("waits grow after delayAfter failures: the next attempt too soon is refused with when to retry", async () => {
    const { app, logins } = setup({ login: { delayAfter: 2, lockAfter: 10, delaySeconds: 30 } });
    await app.request(login("+4917612345678", "wrong"));
    await app.request(login("+4917612345678", "wrong"));
    const waiting = await app.request(login("+4917612345678", "right"));
    const [message] = await messagesOf(waiting);
    expect(message).toMatchObject({ id: 4100401, context: { reason: "login_delayed" } });
    expect(message?.context.retry_after_seconds).toBeGreaterThan(25);
    expect(waiting.headers.get("retry-after")).toBe(String(message?.context.retry_after_seconds));
    expect(logins()).toBe(2);
  });

  it("another user from the same client is unaffected below the per-client threshold", async () => {
    const { app } = setup(NO_DELAY);
    for (let i = 0; i < 9; i++) await app.request(login("+4917612345678", "wrong"));
    expect((await app.request(login("0176 1234 5679", "right"))).status).toBe(200);
  });

  it("a client failing across many identifiers is locked out (credential stuffing), and a success does not reset it", async () => {
    const { app, logins } = setup({ login: { clientLockAfter: 5, clientCreditPerSuccess: 0 } });
    for (let i = 0; i < 4; i++) await app.request(login(`user${i}@example.com`, "guess"));
    expect((await app.request(login("jane@example.com", "right"))).status).toBe(200);
    await app.request(login("user9@example.com", "guess"));
    const locked = await app.request(login("user10@example.com", "guess"));
    expect((await messagesOf(locked))[0]).toMatchObject({ id: 4100403, context: { reason: "client_locked" } });
    expect(logins()).toBe(6);
    // Another client is not affected.
    expect((await messagesOf(await app.request(login("user10@example.com", "guess", "198.51.100.9"))))[0]?.id).toBe(4000006);
  });

  it("each identifier that signs in from a client earns it credit (a carrier NAT's many users)", async () => {
    const { app } = setup({ login: { clientLockAfter: 3, clientCreditPerSuccess: 2 } });
    for (let i = 0; i < 2; i++) await app.request(login("+4917612345678", "typo"));
    await app.request(login("+4917612345678", "right"));
    await app.request(login("+4917612345679", "typo"));
    await app.request(login("+4917612345679", "right"));
    // 3 failures, allowance 3 + 2 × 2 = 7: four more failures go to Kratos, the next is refused.
    for (let i = 0; i < 4; i++) expect((await messagesOf(await app.request(login(`x${i}@example.com`, "g"))))[0]?.id).toBe(4000006);
    expect((await messagesOf(await app.request(login("y@example.com", "g"))))[0]?.id).toBe(4100403);
  });

  it("an identifier-wide lock from many clients does not stop the owner on a client of their own (the device marker)", async () => {
    const { app, logins } = setup({ login: { identifierLockAfter: 20, delayAfter: 10, lockAfter: 10 } });
    const own = await app.request(login("+4917612345678", "right", "192.0.2.50"));
    const device = own.headers.get("kratos-hooks-device");
    expect(device).toMatch(/^v1\.\d+\.[\w-]{22}$/);
    for (let i = 0; i < 40; i++) await app.request(login("+4917612345678", "wrong", `198.51.100.${i}`));
    expect(logins()).toBe(21);
    const stranger = await app.request(login("+4917612345678", "right", "198.51.100.200"));
    expect((await messagesOf(stranger))[0]).toMatchObject({ id: 4100402, context: { reason: "identifier_locked" } });
    // A forged marker, or one for another identifier, is no escape.
    const forged = await app.request(
      login("+4917612345678", "right", "192.0.2.52", { "kratos-hooks-device": `${device?.slice(0, -2)}xx` }),
    );
    expect((await messagesOf(forged))[0]?.id).toBe(4100402);
    const other = (await app.request(login("+4917612345679", "right", "192.0.2.53"))).headers.get("kratos-hooks-device") ?? "";
    expect(
      (await messagesOf(await app.request(login("+4917612345678", "right", "192.0.2.53", { "kratos-hooks-device": other }))))[0]?.id,
    ).toBe(4100402);
    const owner = await app.request(login("0176 1234 5678", "right", "192.0.2.51", { "kratos-hooks-device": device ?? "" }));
    expect(owner.status).toBe(200);
    // The marker is the gateway's: Kratos never sees it.
    expect(upstream.received.at(-1)?.headers["kratos-hooks-device"]).toBeUndefined();
  });
});

describe("shield: each kind of client sees why and when to retry", () => {
  it("a browser form post: failures told apart by the flow, the refusal a 303 to the UI, whose flow carries the message", async () => {
    const { app, logins } = setup({ login: { delayAfter: 2, lockAfter: 2 } });
    const post = (password: string) =>
      app.request(
        new Request("https://auth.example.test/self-service/login?flow=b1", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": "203.0.113.9", cookie: "csrf_token_x=c" },
          body: `method=password&identifier=0176+1234+5678&password=${password}&csrf_token=c`,
        }),
      );
    for (let i = 0; i < 2; i++) expect((await post("wrong")).headers.get("location")).toBe(`${UI}?flow=b1`);
    const refused = await post("right");
    expect(refused.status).toBe(303);
    expect(refused.headers.get("location")).toBe(`${UI}?flow=b1`);
    expect(logins()).toBe(2);
    const flow = await app.request(
      new Request("https://auth.example.test/self-service/login/flows?id=b1", {
        headers: { accept: "application/json", "cf-connecting-ip": "203.0.113.9" },
      }),
    );
    expect((await messagesOf(flow)).map((m) => m.id)).toEqual([4100402]);
  });

  it("a form post with no UI URL configured gets a page that says it, 429 with Retry-After", async () => {
    const { app } = setup({ uiUrls: { login: null }, login: { delayAfter: 1, lockAfter: 1 } });
    const post = () =>
      app.request(
        new Request("https://auth.example.test/self-service/login?flow=b2", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", "cf-connecting-ip": "203.0.113.9" },
          body: "method=password&identifier=jane%40example.com&password=no",
        }),
      );
    await post();
    const res = await post();
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toMatch(/Too many failed sign-in attempts for this account\..*Try again in \d+ minutes\./);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("a browser's success gets the device marker as a cookie (a native app's as a header)", async () => {
    const { app } = setup();
    const res = await app.request(login("jane@example.com", "right", "203.0.113.7", { cookie: "csrf_token_x=c" }));
    expect(res.headers.get("kratos-hooks-device")).toBeNull();
    expect(res.headers.getSetCookie()).toEqual([
      expect.stringMatching(/^kratos_hooks_device=v1\.\d+\.[\w-]{22}; Path=\/; Max-Age=7776000; HttpOnly; SameSite=Lax; Secure$/),
    ]);
  });
});

describe("shield: SMS budgets", () => {
  const code = (identifier: string, client = "203.0.113.7") =>
    new Request("https://auth.example.test/self-service/login?flow=c1", {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": client },
      body: JSON.stringify({ method: "code", identifier }),
    });

  it("code requests to one number, in any spelling, stop at its budget", async () => {
    const { app, kratos, events } = setup({ sms: { perNumber: 3 } });
    for (const spelling of ["0176 1234 5678", "+49 176 12345678", "+4917612345678"])
      expect((await app.request(code(spelling))).status).toBe(400);
    expect(kratos.sent).toEqual(["+4917612345678", "+4917612345678", "+4917612345678"]);
    const refused = await app.request(code("0176 12345678", "198.51.100.1"));
    expect((await messagesOf(refused))[0]).toMatchObject({ id: 4100411, context: { reason: "sms_number_budget" } });
    expect(kratos.sent).toHaveLength(3);
    expect(events.filter((e) => e.event === "refused")).toEqual([{ event: "refused", flow: "login", reason: "sms_number_budget" }]);
  });

  it("premium-rate numbers are never sent a code, by default", async () => {
    const { app, kratos } = setup();
    for (const number of ["+499001234567", "0900 1234567", "+449098765432"]) {
      const res = await app.request(code(number));
      expect((await messagesOf(res))[0]).toMatchObject({ id: 4100412, context: { reason: "sms_number_type" } });
    }
    expect(kratos.sent).toEqual([]);
  });

  it("a block of sequential numbers shares one budget", async () => {
    const { app, kratos } = setup({ sms: { perPrefix: 2 } });
    const signUp = (phone: string, client: string) =>
      new Request("https://auth.example.test/self-service/registration?flow=r2", {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": client },
        body: JSON.stringify({ method: "code", traits: { phone } }),
      });
    for (const n of ["+4917612345601", "+4917612345602", "+4917612345603"]) await app.request(signUp(n, `198.51.100.${n.slice(-1)}`));
    expect(kratos.sent).toEqual(["registration", "registration"]);
    // Another block is not affected.
    await app.request(signUp("+4917612346601", "198.51.100.9"));
    expect(kratos.sent).toHaveLength(3);
  });
});

describe("shield: operating it", () => {
  it("behind an ingress (a private peer, forwarded headers not trusted) it does not count per client, and says so", async () => {
    const { app, log } = setup({ login: { clientLockAfter: 2, clientCreditPerSuccess: 0 } });
    for (let i = 0; i < 5; i++)
      expect((await messagesOf(await app.request(login(`u${i}@example.com`, "g", "10.0.0.5"))))[0]?.id).toBe(4000006);
    expect(log()).toContain('"shield":"per_client_off"');
  });

  it("fails open by default when the store does not answer, and closed when told", async () => {
    const broken: ShieldStore = {
      kind: "broken",
      hit: () => Promise.reject(new Error("down")),
      peek: () => Promise.reject(new Error("down")),
      forgive: () => Promise.reject(new Error("down")),
      reset: () => Promise.reject(new Error("down")),
      put: () => Promise.reject(new Error("down")),
      get: () => Promise.reject(new Error("down")),
    };
    const open = setup({}, { store: broken });
    expect((await open.app.request(login("jane@example.com", "right"))).status).toBe(200);
    expect(open.events).toContainEqual({ event: "store_error", flow: "login", reason: "open" });
    expect(open.log()).toContain('"shield":"store_error"');
    const closed = setup({ failMode: "closed" }, { store: broken });
    const before = closed.logins();
    const res = await closed.app.request(login("jane@example.com", "right"));
    expect((await messagesOf(res))[0]).toMatchObject({ id: 4100420 });
    expect(closed.logins()).toBe(before);
  });

  it("no log line holds an identifier, a number or a token", async () => {
    const { app, log } = setup({ login: { delayAfter: 2, lockAfter: 2 } });
    for (let i = 0; i < 3; i++) await app.request(login("0176 1234 5678", "hunter2"));
    await app.request(login("jane@example.com", "right"));
    const text = log();
    expect(text).toContain('"shield":"refused"');
    for (const secret of ["4917612345678", "0176", "1234 5678", "jane", "hunter2", "tok", SECRET]) expect(text).not.toContain(secret);
  });
});

describe("shield: the attempt is read as Kratos reads it", () => {
  it("a code login's second step is counted on `address`, the identity Kratos checks the code for", async () => {
    const { app } = setup({ login: { delayAfter: 2, lockAfter: 2 } });
    const step2 = (identifier: string, address: string) =>
      new Request("https://auth.example.test/self-service/login?flow=c2", {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": "203.0.113.7" },
        body: JSON.stringify({ method: "code", code: "000000", identifier, address }),
      });
    // Two wrong codes for +4917612345679, each sent with another `identifier` beside it.
    await app.request(step2("a@example.com", "+4917612345679"));
    await app.request(step2("b@example.com", "0176 1234 5679"));
    const res = await app.request(login("+4917612345679", "right"));
    expect((await messagesOf(res))[0]?.id).toBe(4100402);
  });
});

describe("shield: counted on the normalized identifier with the rewriting off too", () => {
  it("with normalizePhone off (nothing rewritten), national, spaced and E.164 spellings still share one counter", async () => {
    const { app, logins } = setup(NO_DELAY, { config: { normalizePhone: { enabled: false, defaultRegion: "DE" } } });
    const spellings = ["0176 1234 5678", "+49 176 1234 5678", "+4917612345678"];
    for (let i = 0; i < 10; i++) await app.request(login(spellings[i % 3] as string, "wrong"));
    // Kratos got each spelling as typed…
    expect(
      upstream.received.filter((r) => r.method === "POST").map((r) => (JSON.parse(r.body.toString()) as { identifier: string }).identifier),
    ).toContain("0176 1234 5678");
    // …and the shield counted one number.
    expect((await messagesOf(await app.request(login("+49 176 12345678", "wrong"))))[0]?.id).toBe(4100402);
    expect(logins()).toBe(10);
  });
});

describe("shield: every submit that sends an SMS spends the number's budget", () => {
  const submit = (flow: string, body: Record<string, unknown>, client = "203.0.113.7") =>
    new Request(`https://auth.example.test/self-service/${flow}?flow=s1`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", "cf-connecting-ip": client },
      body: JSON.stringify(body),
    });

  it("registration by code, a password registration with a phone, a settings change and a recovery code share one budget", async () => {
    const { app, kratos } = setup({ sms: { perNumber: 4 } });
    const submits: [string, Record<string, unknown>][] = [
      ["registration", { method: "code", traits: { phone: "0176 1234 5678" } }],
      ["registration", { method: "password", password: "x", "traits.phone": "+49 176 1234 5678" }],
      ["settings", { method: "profile", traits: { phone: "+4917612345678" } }],
      ["recovery", { method: "code", recovery_address: "0176 12345678" }],
    ];
    for (const [flow, body] of submits) expect((await messagesOf(await app.request(submit(flow, body))))[0]?.id).toBe(1040005);
    expect(kratos.sent).toEqual(["registration", "registration", "settings", "recovery"]);
    const refused = await app.request(submit("recovery", { method: "code", recovery_address: "+4917612345678" }, "198.51.100.3"));
    expect((await messagesOf(refused))[0]).toMatchObject({ id: 4100411, context: { reason: "sms_number_budget" } });
    // Entering the code sends nothing and is not counted.
    const code = await app.request(
      submit("registration", { method: "code", code: "123456", traits: { phone: "+4917612345678" } }, "198.51.100.4"),
    );
    expect((await messagesOf(code))[0]?.id).toBe(1040005);
    expect(kratos.sent).toHaveLength(5);
  });

  it("a country outside normalizePhone.allowedCountries is never sent a code", async () => {
    const { app, kratos } = setup({}, { config: { normalizePhone: { defaultRegion: "DE", allowedCountries: ["DE"] } } });
    const res = await app.request(submit("registration", { method: "code", traits: { phone: "+33612345678" } }));
    expect((await messagesOf(res))[0]).toMatchObject({ id: 4100413, context: { reason: "sms_country" } });
    expect(kratos.sent).toEqual([]);
  });
});

describe("shield: a gateway rule of your own reads the same attempt and outcome", () => {
  it("sees the normalized identifier before the forwarding, and Kratos's outcome after", async () => {
    const seen: unknown[] = [];
    const config = parseConfig({ normalizePhone: { defaultRegion: "DE" } }, "test");
    const app = createGateway({
      config,
      upstream: new URL(upstream.url),
      logger: createPinoLogger("silent"),
      runtime: createFetchRuntime(),
      // Cloudflare's reading of the client, as on Workers: CF-Connecting-IP names it.
      connInfo: getWorkersConnInfo,
      rules: [
        async (c, next) => {
          const attempt = c.get("attempt");
          seen.push({ flow: attempt?.flow, identifier: attempt?.identifier, method: attempt?.method, clientKind: attempt?.clientKind });
          await next();
          seen.push(await c.get("outcome")?.());
        },
      ],
    });
    upstream.answer = kratosLike({ "+4917612345678": "right" }).answer;
    await app.request(login("0176 1234 5678", "wrong"));
    await app.request(login("+49 176 12345678", "right"));
    expect(seen).toEqual([
      { flow: "login", identifier: "+4917612345678", method: "password", clientKind: "json" },
      { kind: "credential_failure", messageId: 4000006 },
      { flow: "login", identifier: "+4917612345678", method: "password", clientKind: "json" },
      { kind: "success" },
    ]);
  });
});

describe("shield: unlock", () => {
  it("starts the identifier afresh on every client, and each later attempt still counts once for its client", async () => {
    const { app, shield, logins } = setup({ login: { delayAfter: 3, lockAfter: 3, clientLockAfter: 5, clientCreditPerSuccess: 0 } });
    for (let i = 0; i < 3; i++) await app.request(login("+4917612345678", "wrong"));
    expect((await messagesOf(await app.request(login("+4917612345678", "wrong"))))[0]?.id).toBe(4100402);
    await shield.unlock("+4917612345678");
    expect(await shield.status("+4917612345678")).toMatchObject({ failures: 0, locked: false });
    // Two more failures reach Kratos: five from this client in all, its limit.
    for (let i = 0; i < 2; i++) expect((await messagesOf(await app.request(login("0176 1234 5678", "wrong"))))[0]?.id).toBe(4000006);
    expect(logins()).toBe(5);
    expect((await messagesOf(await app.request(login("jane@example.com", "right"))))[0]?.id).toBe(4100403);
  });
});

describe("shield: an SMS budget is spent on codes sent, not on forms shown again", () => {
  it("a sign-up with a phone refused by Kratos six times (a weak password), then sent: the number's budget is whole", async () => {
    const { app, kratos } = setup({ sms: { perNumber: 1 } });
    const register = (password: string) =>
      new Request("https://auth.example.test/self-service/registration?flow=r1", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json", "cf-connecting-ip": "203.0.113.7" },
        body: JSON.stringify({ method: "password", password, traits: { phone: "0176 1234 5678" } }),
      });
    for (let i = 0; i < 6; i++) expect((await messagesOf(await app.request(register("weak"))))[0]?.id).toBe(4000005);
    expect((await messagesOf(await app.request(register("a good one"))))[0]?.id).toBe(1040005);
    expect(kratos.sent).toEqual(["registration"]);
    // The one it sent is spent.
    expect((await messagesOf(await app.request(register("a good one"))))[0]?.id).toBe(4100411);
  });

  it("code logins for an account that does not exist (4000035) send nothing and spend no budget, and count as login failures", async () => {
    const { app, kratos } = setup({ sms: { perNumber: 2 }, login: { delayAfter: 3, lockAfter: 3 } });
    const code = (identifier: string) =>
      new Request("https://auth.example.test/self-service/login?flow=c3", {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": "203.0.113.7" },
        body: JSON.stringify({ method: "code", identifier }),
      });
    for (let i = 0; i < 3; i++) expect((await messagesOf(await app.request(code("+4917699999999"))))[0]?.id).toBe(4000035);
    expect(kratos.sent).toEqual([]);
    // The probe's login counter is at its lock; the SMS budget of that number is untouched.
    expect((await messagesOf(await app.request(code("+4917699999999"))))[0]?.id).toBe(4100402);
    for (let i = 0; i < 2; i++) expect((await messagesOf(await app.request(code("+4917612345678"))))[0]?.id).toBe(1010014);
  });
});
