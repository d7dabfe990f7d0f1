import { describe, expect, it } from "vitest";
import { codeIn } from "./courier-sink.js";
import { passwordSignUp } from "./kratos-client.js";
import { useStack } from "./stack.js";

const e2e = useStack();

// Kratos v1.3.1 cannot send a registration code by SMS: its code sender hands the SMS channel an
// email template and answers 500 "Expected sms template" (docs/kratos-wiring.md, "What Kratos v1.3.1 does"). So a
// passwordless sign-up there gets its code by email; SMS codes work for login and verification.
describe("passwordless flows through real Kratos (code method)", () => {
  it("registers with a code: hook runs on registration.after.code, phone stored as E.164, address verified", async () => {
    const traits = { email: "code-signup@example.org", phone: "0176 1234 5672" };
    const flow = await e2e.kratos.createFlow("registration");
    const sent = e2e.stack.sink.messages.length;
    const first = await e2e.kratos.submit("registration", flow.body.id ?? "", {
      method: "code",
      traits,
      transient_payload: { phone_region: "DE" },
    });
    expect(first.status).toBe(400); // the flow, now waiting for the code
    expect(first.body.state).toBe("sent_email");
    const code = codeIn(await e2e.stack.sink.waitFor("code-signup@example.org", "registration_code_valid", sent));

    const done = await e2e.kratos.submit("registration", flow.body.id ?? "", {
      method: "code",
      code,
      traits,
      transient_payload: { phone_region: "DE" },
    });
    expect(done.status).toBe(200);
    expect(done.body.session_token).toEqual(expect.any(String));
    const stored = (await e2e.kratos.admin.getIdentity({ id: done.body.identity?.id ?? "" })).data;
    expect(stored.schema_id).toBe("email");
    expect(stored.traits).toEqual({ email: "code-signup@example.org", phone: "+4917612345672" });
    expect(stored.verifiable_addresses).toEqual([
      expect.objectContaining({ value: "code-signup@example.org", via: "email", verified: true, status: "completed" }),
    ]);
  });

  it("signs in by SMS code sent to the normalized number, and verifies that number by SMS", async () => {
    const registered = await e2e.kratos.run("registration", passwordSignUp({ phone: "0176 1234 5673" }, "DE"));
    expect(registered.status).toBe(200);
    const id = registered.body.identity?.id ?? "";
    const number = "+4917612345673";

    // Verification: right after sign-up Kratos started a verification flow for the E.164 number
    // and texted its code there. (v1.3.1 cannot start an SMS verification on request.)
    const verification = registered.body.continue_with?.find((c) => c.action === "show_verification_ui")?.flow;
    expect(verification?.verifiable_address).toBe(number);
    const verificationCode = codeIn(await e2e.stack.sink.waitFor(number, "verification_code_valid"));
    const verified = await e2e.kratos.submit("verification", verification?.id ?? "", { method: "code", code: verificationCode });
    expect(verified.status).toBe(200);
    expect(verified.body.state).toBe("passed_challenge");
    expect((await e2e.kratos.admin.getIdentity({ id })).data.verifiable_addresses).toEqual([
      expect.objectContaining({ value: number, via: "sms", verified: true, status: "completed" }),
    ]);

    // Login without the password: the code goes by SMS to the number we normalized.
    const login = await e2e.kratos.createFlow("login");
    const sent = e2e.stack.sink.messages.length;
    const asked = await e2e.kratos.submit("login", login.body.id ?? "", { method: "code", identifier: number });
    expect(asked.status).toBe(400);
    const message = await e2e.stack.sink.waitFor(number, "login_code_valid", sent);
    expect(message.channel).toBe("sms");
    const res = await e2e.kratos.submit("login", login.body.id ?? "", { method: "code", identifier: number, code: codeIn(message) });
    expect(res.status).toBe(200);
    expect(res.body.session?.identity.id).toBe(id);
  });

  it("Kratos never failed to read one of our answers", () => {
    expect(e2e.stack.misreadAnswers()).toEqual([]);
  });
});
