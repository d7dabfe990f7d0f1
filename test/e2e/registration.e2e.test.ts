import { describe, expect, it, vi } from "vitest";
import { MESSAGES } from "../../src/core/messages.js";
import { allMessageIds, CookieJar, type KratosAnswer, nodeMessages, passwordSignUp } from "./kratos-client.js";
import { hookLog, useStack } from "./stack.js";

const e2e = useStack();

describe("registration through real Kratos", () => {
  it("stores a national-format phone with phone_region as E.164 on the phone schema", async () => {
    const res = await e2e.kratos.run("registration", passwordSignUp({ phone: "06 12 34 56 78" }, "FR"));
    expect(res.status).toBe(200);
    const id = res.body.identity?.id ?? "";
    const stored = (await e2e.kratos.admin.getIdentity({ id })).data;
    expect(stored.schema_id).toBe("phone");
    expect(stored.traits).toEqual({ phone: "+33612345678" });
    // Kratos derived the SMS address from the normalized trait, and texts that number.
    expect(stored.verifiable_addresses?.map((a) => [a.via, a.value])).toEqual([["sms", "+33612345678"]]);
    await e2e.stack.sink.waitFor("+33612345678", "verification_code_valid");
  });

  it("routes an email sign-up to the email schema with the traits exactly as submitted", async () => {
    const traits = { email: "Jane.Doe@Example.org" };
    const res = await e2e.kratos.run("registration", passwordSignUp(traits));
    expect(res.status).toBe(200);
    const stored = (await e2e.kratos.admin.getIdentity({ id: res.body.identity?.id ?? "" })).data;
    expect(stored.schema_id).toBe("email");
    expect(stored.traits).toEqual(traits);
  });

  it("refuses an invalid phone with our message on traits.phone and creates no identity", async () => {
    const before = (await e2e.kratos.allIdentities()).length;
    const res = await e2e.kratos.run("registration", passwordSignUp({ phone: "06 12" }, "FR"));
    expect(res.status).toBe(400);
    expect(nodeMessages(res.body, "traits.phone")).toEqual([
      expect.objectContaining({ id: 4100001, type: "error", context: expect.objectContaining({ reason: "invalid_phone" }) }),
    ]);
    // Kratos puts the submitted value back into the form for the person to correct.
    expect(res.body.ui?.nodes.find((n) => n.attributes.name === "traits.phone")?.attributes.value).toBe("06 12");
    expect((await e2e.kratos.allIdentities()).length).toBe(before);
  });

  it("refuses a disposable email domain with our message on traits.email", async () => {
    const before = (await e2e.kratos.allIdentities()).length;
    const res = await e2e.kratos.run("registration", passwordSignUp({ email: "someone@mailinator.com" }));
    expect(res.status).toBe(400);
    expect(nodeMessages(res.body, "traits.email")).toEqual([
      expect.objectContaining({ id: 4100101, type: "error", context: { reason: "disposable_domain", domain: "mailinator.com" } }),
    ]);
    expect((await e2e.kratos.allIdentities()).length).toBe(before);
  });

  it("lets Kratos refuse the same phone written another way as a duplicate (only because we normalized)", async () => {
    const first = await e2e.kratos.run("registration", passwordSignUp({ phone: "+33 6 12 34 56 79" }));
    expect(first.status).toBe(200);
    const second = await e2e.kratos.run("registration", passwordSignUp({ phone: "06.12.34.56.79" }, "FR"));
    expect(second.status).toBe(400);
    // 4000007: "An account with the same identifier (email, phone, username, ...) exists already."
    expect(allMessageIds(second.body)).toContain(4000007);
    expect(await e2e.kratos.identitiesWith("+33612345679")).toHaveLength(1);
  });

  it("works as a browser flow too: CSRF cookie and token, then a session cookie", async () => {
    const jar = new CookieJar();
    const init = await fetch(`${e2e.stack.kratosPublic}/self-service/registration/browser`, { headers: { Accept: "application/json" } });
    expect(init.status).toBe(200);
    jar.store(init);
    const flow = (await init.json()) as KratosAnswer;
    const csrf = flow.ui?.nodes.find((n) => n.attributes.name === "csrf_token")?.attributes.value;
    expect(csrf).toEqual(expect.any(String));
    const submit = (cookie: string) =>
      fetch(`${e2e.stack.kratosPublic}/self-service/registration?flow=${flow.id}`, {
        method: "POST",
        headers: { Accept: "application/json", "Content-Type": "application/json", Cookie: cookie },
        body: JSON.stringify({ csrf_token: csrf, ...passwordSignUp({ phone: "06 12 34 56 77" }, "FR") }),
      });

    // Without the CSRF cookie Kratos refuses before any hook runs.
    const forged = await submit("");
    expect(forged.status).toBe(403);

    const res = await submit(jar.header());
    expect(res.status).toBe(200);
    jar.store(res);
    expect(jar.names()).toContain("ory_kratos_session");
    const whoami = await fetch(`${e2e.stack.kratosPublic}/sessions/whoami`, {
      headers: { Accept: "application/json", Cookie: jar.header() },
    });
    expect(whoami.status).toBe(200);
    const session = (await whoami.json()) as NonNullable<KratosAnswer["session"]>;
    expect(session.identity.schema_id).toBe("phone");
    expect(session.identity.traits).toEqual({ phone: "+33612345677" });
  });

  it.each(["registration", "login"] as const)("runs %s-before: a denied client gets no flow, only Kratos's error page", async (kind) => {
    const api = await fetch(`${e2e.stack.kratosPublic}/self-service/${kind}/api`, {
      headers: { "User-Agent": "BadBot/1.0", Accept: "application/json" },
    });
    const apiBody = await api.text();
    // v1.3.1 answers API clients 500 (registration) or 404 (login), with its own error document first.
    expect(api.status).toBe({ registration: 500, login: 404 }[kind]);
    const [error, ...after] = apiBody.trim().split("\n");
    expect(JSON.parse(error ?? "")).toMatchObject({ error: { code: api.status } });
    // Login only: Kratos then also writes the unsaved flow carrying our message, after the 404
    // document, where no JSON client reads it. Registration's body has nothing of ours.
    const ours = after.map((line) => (JSON.parse(line) as { ui?: { messages?: { id: number }[] } }).ui?.messages?.map((m) => m.id));
    expect(ours).toEqual({ registration: [], login: [[MESSAGES.REQUEST_DENIED.id]] }[kind]);
    const browser = await fetch(`${e2e.stack.kratosPublic}/self-service/${kind}/browser`, {
      headers: { "User-Agent": "BadBot/1.0" },
      redirect: "manual",
    });
    expect(browser.status).toBe(303);
    expect(browser.headers.get("location")).toMatch(/\/error\?id=/);
    // Our log line may reach the pipe a moment after Kratos has answered.
    const refusals = () => hookLog(e2e.stack).filter((l) => l.hook === `${kind}-before` && l.decision === "deny");
    await vi.waitFor(() => expect(refusals().map((l) => l.messages)).toEqual([["REQUEST_DENIED"], ["REQUEST_DENIED"]]));
    // An ordinary client still gets a flow.
    expect((await e2e.kratos.createFlow(kind, { "User-Agent": "Mozilla/5.0" })).status).toBe(200);
  });

  it("Kratos never failed to read one of our answers", () => {
    expect(e2e.stack.misreadAnswers()).toEqual([]);
  });
});
