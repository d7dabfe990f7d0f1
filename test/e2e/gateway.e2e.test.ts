import { describe, expect, it, vi } from "vitest";
import { codeIn } from "./courier-sink.js";
import { CookieJar, type KratosAnswer, KratosClient, newPassword, nodeMessages, passwordSignUp } from "./kratos-client.js";
import { E2E_HOOKS_CONFIG, HOOKS_RUNTIME, hookLog, useStack } from "./stack.js";

// Real Kratos v1.3.1 behind our gateway (Node, or the Worker in wrangler dev with
// `npm run test:e2e:worker`): Kratos's base_url is the gateway's URL, and clients call only the
// gateway. The same Kratos straight on its own port is the control.
const CONFIG = { ...E2E_HOOKS_CONFIG, normalizePhone: { regionHeader: "Cf-Ipcountry" } };
const e2e = useStack(CONFIG, { gateway: true });

/** The client of a real deployment: every call goes to the gateway. */
const viaGateway = () => e2e.gateway;
/** The control: straight to Kratos's own public port. */
const direct = () => new KratosClient(e2e.stack.kratosPublic, e2e.stack.kratosAdmin);

const DE = { transient_payload: { phone_region: "DE" } };
const PASSWORD = newPassword();
const NATIONAL = "0176 5550 1234";
const E164 = "+4917655501234";
/** Everything these flows send that a log must never hold. */
const SECRETS = new Set<string>([PASSWORD, NATIONAL, E164, "17655501234", "Mixed.Case@example.org"]);

function login(client: KratosClient, identifier: string, extra: Record<string, unknown> = {}, password = PASSWORD) {
  return client.run("login", { method: "password", identifier, password, ...extra });
}

describe(`through the gateway (${HOOKS_RUNTIME}) in front of real Kratos`, () => {
  let identityId = "";

  it("signs up with a national number: stored as E.164 on the phone schema", async () => {
    const res = await viaGateway().run("registration", passwordSignUp({ phone: NATIONAL }, "DE", PASSWORD));
    expect(res.status).toBe(200);
    identityId = res.body.identity?.id ?? "";
    SECRETS.add(res.body.session_token ?? "");
    const stored = (await e2e.kratos.admin.getIdentity({ id: identityId })).data;
    expect(stored).toMatchObject({ schema_id: "phone", traits: { phone: E164 } });
  });

  it.each([
    ["national, with phone_region", NATIONAL, DE],
    ["spaced international with brackets", "+49 (176) 5550-1234", {}],
    ["00 prefix", "0049 176 5550 1234", {}],
    ["E.164", E164, {}],
  ])("password login with the number written %s", async (_, identifier, extra) => {
    const res = await login(viaGateway(), identifier, extra);
    expect(res.status).toBe(200);
    expect(res.body.session?.identity.id).toBe(identityId);
    SECRETS.add(res.body.session_token ?? "");
  });

  it("the control: straight to Kratos, the national and the spaced forms are refused as invalid credentials", async () => {
    for (const [identifier, extra] of [
      [NATIONAL, DE],
      ["+49 (176) 5550-1234", {}],
    ] as const) {
      const res = await login(direct(), identifier, extra);
      expect(res.status).toBe(400);
      expect(res.body.ui?.messages?.map((m) => m.id)).toEqual([4000006]);
    }
  });

  it("signs in by SMS code with the national number, the code read from the courier sink", async () => {
    const client = viaGateway();
    const flow = await client.createFlow("login");
    const sent = e2e.stack.sink.messages.length;
    const asked = await client.submit("login", flow.body.id ?? "", { method: "code", identifier: NATIONAL, ...DE });
    expect(asked.status).toBe(400); // the flow, now waiting for the code
    const message = await e2e.stack.sink.waitFor(E164, "login_code_valid", sent);
    expect(message.channel).toBe("sms");
    const code = codeIn(message);
    const done = await client.submit("login", flow.body.id ?? "", { method: "code", identifier: NATIONAL, code, ...DE });
    expect(done.status).toBe(200);
    expect(done.body.session?.identity.id).toBe(identityId);
    SECRETS.add(done.body.session_token ?? "");
  });

  it("a browser login: 303s, the CSRF cookie, a form-encoded body with the region from a header, a session cookie, whoami", async () => {
    const gateway = e2e.stack.gatewayUrl ?? "";
    const jar = new CookieJar();
    const init = await fetch(`${gateway}/self-service/login/browser`, { redirect: "manual" });
    expect(init.status).toBe(303);
    jar.store(init);
    const flowId = new URL(init.headers.get("location") ?? "").searchParams.get("flow") ?? "";
    const flowRes = await fetch(`${gateway}/self-service/login/flows?id=${flowId}`, {
      headers: { Accept: "application/json", Cookie: jar.header() },
    });
    expect(flowRes.status).toBe(200);
    const flow = (await flowRes.json()) as KratosAnswer;
    // Kratos builds the form action from base_url: the gateway.
    expect(flow.ui?.action?.startsWith(`${gateway}/self-service/login?flow=`)).toBe(true);
    const csrf = String(flow.ui?.nodes.find((n) => n.attributes.name === "csrf_token")?.attributes.value ?? "");
    // As a browser submits an HTML form: no transient_payload; Cloudflare in front sends the country.
    const form = new URLSearchParams({ csrf_token: csrf, identifier: NATIONAL, password: PASSWORD, method: "password" });
    const submit = await fetch(`${gateway}/self-service/login?flow=${flowId}`, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: jar.header(), "CF-IPCountry": "DE" },
      body: form.toString(),
    });
    expect(submit.status).toBe(303);
    expect(submit.headers.get("location")).toBe("http://127.0.0.1:3000/");
    jar.store(submit);
    expect(jar.names()).toContain("ory_kratos_session");
    const whoami = await fetch(`${gateway}/sessions/whoami`, { headers: { Accept: "application/json", Cookie: jar.header() } });
    expect(whoami.status).toBe(200);
    expect(((await whoami.json()) as { identity: { id: string } }).identity.id).toBe(identityId);
    for (const cookie of jar.header().split("; ")) SECRETS.add(cookie.split("=").slice(1).join("="));
  });

  it("an HTML form with a hidden transient_payload field (a JSON string) gives the region, and Kratos accepts the field", async () => {
    const gateway = e2e.stack.gatewayUrl ?? "";
    const jar = new CookieJar();
    const init = await fetch(`${gateway}/self-service/login/browser`, { redirect: "manual" });
    jar.store(init);
    const flowId = new URL(init.headers.get("location") ?? "").searchParams.get("flow") ?? "";
    const flow = (await (
      await fetch(`${gateway}/self-service/login/flows?id=${flowId}`, { headers: { Accept: "application/json", Cookie: jar.header() } })
    ).json()) as KratosAnswer;
    const csrf = String(flow.ui?.nodes.find((n) => n.attributes.name === "csrf_token")?.attributes.value ?? "");
    const form = new URLSearchParams({
      csrf_token: csrf,
      identifier: NATIONAL,
      password: PASSWORD,
      method: "password",
      transient_payload: JSON.stringify({ phone_region: "DE" }),
    });
    const submit = await fetch(`${gateway}/self-service/login?flow=${flowId}`, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: jar.header() },
      body: form.toString(),
    });
    expect(submit.status).toBe(303);
    expect(submit.headers.get("location")).toBe("http://127.0.0.1:3000/");
    jar.store(submit);
    expect(jar.names()).toContain("ory_kratos_session");
    for (const cookie of jar.header().split("; ")) SECRETS.add(cookie.split("=").slice(1).join("="));
  });

  it("a settings change on a phone identity: the national number passes Kratos's format check and is stored as E.164", async () => {
    const signUp = await viaGateway().run("registration", passwordSignUp({ phone: "0176 5550 2000" }, "DE"));
    expect(signUp.status).toBe(200);
    const token = signUp.body.session_token ?? "";
    const id = signUp.body.identity?.id ?? "";
    SECRETS.add(token);
    const change = { method: "profile", traits: { phone: "0176 5550 2001" }, ...DE };
    // The control: Kratos validates `format: tel` on the phone schema before any hook runs.
    const refused = await direct().run("settings", change, { "X-Session-Token": token });
    expect(refused.status).toBe(400);
    expect(nodeMessages(refused.body, "traits.phone").map((m) => m.type)).toEqual(["error"]);
    expect((await e2e.kratos.admin.getIdentity({ id })).data.traits).toEqual({ phone: "+4917655502000" });

    const saved = await viaGateway().run("settings", change, { "X-Session-Token": token });
    expect(saved.status).toBe(200);
    expect(saved.body.state).toBe("success");
    expect((await e2e.kratos.admin.getIdentity({ id })).data.traits).toEqual({ phone: "+4917655502001" });
  });

  it("an email login is left intact", async () => {
    const email = "Mixed.Case@example.org";
    const signUp = await viaGateway().run("registration", passwordSignUp({ email }, undefined, PASSWORD));
    expect(signUp.status).toBe(200);
    const before = hookLog(e2e.stack).length;
    const res = await login(viaGateway(), email);
    expect(res.status).toBe(200);
    expect(res.body.session?.identity.traits).toEqual({ email });
    await vi.waitFor(() => {
      const lines = gatewayLog().filter((l) => l.route === "/self-service/login" && l.method === "POST");
      expect(lines.at(-1)).toMatchObject({ status: 200, rewritten: [] });
    });
    expect(hookLog(e2e.stack).length).toBeGreaterThan(before);
  });

  it("a wrong password gets Kratos's own 400 and message id", async () => {
    const res = await login(viaGateway(), NATIONAL, DE, "not the password at all");
    expect(res.status).toBe(400);
    expect(res.body.ui?.messages).toEqual([
      expect.objectContaining({
        id: 4000006,
        type: "error",
        text: "The provided credentials are invalid, check for spelling mistakes in your password or username, email address, or phone number.",
      }),
    ]);
  });

  it("logged one line per gateway request, with the fields it rewrote, and no number, password, cookie or token", async () => {
    await vi.waitFor(() =>
      expect(gatewayLog().some((l) => l.method === "POST" && (l.rewritten as string[]).includes("identifier"))).toBe(true),
    );
    const rewrites = new Set(gatewayLog().flatMap((l) => l.rewritten as string[]));
    expect([...rewrites].sort()).toEqual(["identifier", "traits.phone"]);
    const output = e2e.stack.hooks.process.output();
    for (const secret of SECRETS) if (secret.length >= 6) expect(output, `log holds ${secret}`).not.toContain(secret);
    expect(e2e.stack.misreadAnswers()).toEqual([]);
  });
});

/** The gateway's log lines, parsed. */
function gatewayLog(): Record<string, unknown>[] {
  return e2e.stack.hooks.process
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === "gateway request");
}
