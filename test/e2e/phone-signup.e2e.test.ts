import { describe, expect, it } from "vitest";
import { codeIn } from "./courier-sink.js";
import { allMessageIds } from "./kratos-client.js";
import { E2E_HOOKS_CONFIG, hookLog, kratosAtLeast, useStack } from "./stack.js";

// Phone-only sign-up by SMS code, the scenario kratos-hooks exists for, through the gateway: a
// national number and the region the person picked, the code from the courier sink, the identity
// on the `phone` schema in E.164 with its number verified; then a login by SMS code typed in the
// spaced international form. Kratos v25.4+ only: the flow names its schema (?identity_schema=phone,
// `selfservice_selectable` in kratos.yml), the one whose phone is a code identifier via sms.
// Kratos v1.3.1 has neither, and each test states what it does instead.

const e2e = useStack(E2E_HOOKS_CONFIG, { gateway: true });
const V25_4 = kratosAtLeast("v25.4.0");
const viaGateway = () => e2e.gateway;
const DE = { transient_payload: { phone_region: "DE" } };

describe("phone-only sign-up by SMS code, through the gateway", () => {
  it("v25.4+: a national number and its region, the texted code, the identity on `phone` in E.164 and verified, then an SMS code login typed +49 176 …; v1.3.1: no code sign-up by phone", async () => {
    const national = "0176 5550 3001";
    const e164 = "+4917655503001";
    const client = viaGateway();
    const flow = await client.createFlow("registration", {}, "?identity_schema=phone");
    expect(flow.status).toBe(200);
    const sent = e2e.stack.sink.messages.length;
    const step1 = await client.submit("registration", flow.body.id ?? "", { method: "code", traits: { phone: national }, ...DE });
    if (!V25_4) {
      // v1.3.1 ignores ?identity_schema=: the flow is on `default`, whose phone is no code
      // identifier, and Kratos finds none (4000009).
      expect(step1.status).toBe(400);
      expect(step1.body.ui?.messages).toEqual([expect.objectContaining({ id: 4000009, type: "error" })]);
      expect(await client.identitiesWith(e164)).toEqual([]);
      return;
    }
    // The code went out: Kratos answers 400 with state sent_email and 1040005, by SMS too.
    expect(step1.status).toBe(400);
    expect(step1.body.state).toBe("sent_email");
    expect(step1.body.ui?.messages).toEqual([expect.objectContaining({ id: 1040005 })]);
    const texted = await e2e.stack.sink.waitFor(e164, "registration_code_valid", sent);
    expect(texted.channel).toBe("sms");

    const hookCalls = hookLog(e2e.stack).length;
    const done = await client.submit("registration", flow.body.id ?? "", {
      method: "code",
      traits: { phone: national },
      code: codeIn(texted),
      ...DE,
    });
    expect(done.status).toBe(200);
    expect(done.body.session_token).toEqual(expect.any(String));
    // The hook ran on registration.after.code; the gateway had already written the number in
    // E.164, so the hook let the identity through unchanged (no patch: idempotent).
    expect(hookLog(e2e.stack).slice(hookCalls)).toEqual([
      expect.objectContaining({ hook: "registration-after", decision: "continue", status: 204, changes: [] }),
    ]);
    const stored = (await e2e.kratos.admin.getIdentity({ id: done.body.identity?.id ?? "" })).data;
    expect(stored.schema_id).toBe("phone");
    expect(stored.traits).toEqual({ phone: e164 });
    expect(stored.verifiable_addresses).toEqual([
      expect.objectContaining({ value: e164, via: "sms", verified: true, status: "completed" }),
    ]);

    // Login by SMS code, the number typed in the spaced international form.
    const login = await client.createFlow("login");
    const before = e2e.stack.sink.messages.length;
    const asked = await client.submit("login", login.body.id ?? "", { method: "code", identifier: "+49 176 5550 3001" });
    expect(asked.status).toBe(400);
    const code = codeIn(await e2e.stack.sink.waitFor(e164, "login_code_valid", before));
    const signedIn = await client.submit("login", login.body.id ?? "", { method: "code", identifier: "+49 176 5550 3001", code });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.session?.identity.id).toBe(stored.id);
  });

  it("straight to Kratos, the national number is refused by Kratos itself (v25.4+: 4000041; v1.3.1: 4000009): only the gateway takes national input", async () => {
    const flow = await e2e.kratos.createFlow("registration", {}, "?identity_schema=phone");
    const res = await e2e.kratos.submit("registration", flow.body.id ?? "", { method: "code", traits: { phone: "0176 5550 3002" }, ...DE });
    expect(res.status).toBe(400);
    // v25.4+: Kratos's own check of the SMS code identifier (4000041); v1.3.1: the flow is on
    // `default`, whose phone is no code identifier (4000009).
    expect(allMessageIds(res.body)).toEqual([V25_4 ? 4000041 : 4000009]);
    expect(await e2e.kratos.identitiesWith("+4917655503002")).toEqual([]);
  });

  it("Kratos never failed to read one of our answers", () => {
    expect(e2e.stack.misreadAnswers()).toEqual([]);
  });
});
