import { describe, expect, it } from "vitest";
import { newPassword, passwordSignUp } from "./kratos-client.js";
import { E2E_HOOKS_CONFIG, hookLog, kratosAtLeast, useStack } from "./stack.js";

// What Kratos v25.4+ gives a hook that v1.3.1 does not, as the hooks receive it from a real
// Kratos: each test states both versions' answers (docs/kratos-wiring.md#kratos-versions).

const V25_4 = kratosAtLeast("v25.4.0");
const V26_2 = kratosAtLeast("v26.2.0");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("what each Kratos version gives the hooks", () => {
  const e2e = useStack(E2E_HOOKS_CONFIG, { captureCtx: true, gateway: true });
  const viaGateway = () => e2e.gateway;

  it("Ory-Webhook-Trigger-ID: v25.4+ sends one per hook execution, and our log line carries it; v1.3.1 sends none", async () => {
    const before = hookLog(e2e.stack).length;
    const res = await e2e.kratos.run("registration", passwordSignUp({ email: "trigger@example.org" }));
    expect(res.status).toBe(200);
    const lines = hookLog(e2e.stack).slice(before);
    expect(lines.map((line) => line.hook)).toEqual(["registration-before", "registration-after"]);
    const ids = lines.map((line) => line.triggerId);
    if (V25_4) {
      for (const id of ids) expect(id).toMatch(UUID);
      expect(new Set(ids).size).toBe(2);
    } else {
      expect(ids).toEqual([undefined, undefined]);
    }
  });

  it("settings-after: v26.2+ passes the session to the hook, and ours reads it; v1.3.1 passes none", async () => {
    const signUp = await e2e.kratos.run("registration", passwordSignUp({ email: "session@example.org" }, undefined, newPassword()));
    const token = signUp.body.session_token ?? "";
    const res = await viaGateway().run(
      "settings",
      { method: "profile", traits: { email: "session@example.org", phone: "+49 176 5550 4001" } },
      { "X-Session-Token": token },
    );
    expect(res.status).toBe(200);
    const ctx = e2e.stack.sink.lastCtx("settings-after") as { session?: Record<string, unknown> };
    if (V26_2) {
      expect(ctx.session).toMatchObject({ id: signUp.body.session?.id, authenticator_assurance_level: "aal1", active: true });
    } else {
      expect(ctx.session).toBeUndefined();
    }
    // Either way our hook read the payload and saved the number in E.164.
    const stored = (await e2e.kratos.admin.getIdentity({ id: signUp.body.identity?.id ?? "" })).data;
    expect(stored.traits).toEqual({ email: "session@example.org", phone: "+4917655504001" });
  });

  it("?identity_schema=phone: v25.4+ starts the flow on `phone`, names it in ctx.flow, and routing keeps it; v1.3.1 ignores it and routing moves the identity there", async () => {
    const flow = await e2e.kratos.createFlow("registration", {}, "?identity_schema=phone");
    expect(flow.status).toBe(200);
    const before = hookLog(e2e.stack).length;
    const res = await e2e.kratos.submit("registration", flow.body.id ?? "", {
      method: "password",
      traits: { phone: "+4917655504002" },
      password: newPassword(),
    });
    expect(res.status).toBe(200);
    const ctx = e2e.stack.sink.lastCtx("registration-after") as { flow: { identity_schema?: string }; identity: { schema_id: string } };
    const after = hookLog(e2e.stack)
      .slice(before)
      .find((line) => line.hook === "registration-after");
    if (V25_4) {
      expect(ctx.flow.identity_schema).toBe("phone");
      expect(ctx.identity.schema_id).toBe("phone");
      expect(after).toMatchObject({ decision: "continue", changes: [] });
    } else {
      expect(ctx.flow.identity_schema).toBeUndefined();
      expect(ctx.identity.schema_id).toBe("default");
      expect(after).toMatchObject({ decision: "patch", changes: ["schema_id"] });
    }
    expect((await e2e.kratos.admin.getIdentity({ id: res.body.identity?.id ?? "" })).data.schema_id).toBe("phone");
  });

  it("Kratos never failed to read one of our answers", () => {
    expect(e2e.stack.misreadAnswers()).toEqual([]);
  });
});

describe("kratos.yml without the show_verification_ui hook", () => {
  const e2e = useStack(E2E_HOOKS_CONFIG, {
    editKratos: (config) => {
      const after = (config.selfservice as { flows: { registration: { after: Record<string, { hooks: { hook: string }[] }> } } }).flows
        .registration.after;
      for (const method of Object.values(after)) method.hooks = method.hooks.filter((h) => h.hook !== "show_verification_ui");
    },
  });

  it("v1.3.1 still lists the SMS verification it started in continue_with; v25.4+ starts it and texts the code, but lists it only with the hook (which kratos.yml has)", async () => {
    const res = await e2e.kratos.run("registration", passwordSignUp({ phone: "0176 5550 4003" }, "DE"));
    expect(res.status).toBe(200);
    const listed = res.body.continue_with?.find((c) => c.action === "show_verification_ui")?.flow;
    await e2e.stack.sink.waitFor("+4917655504003", "verification_code_valid");
    if (V25_4) expect(listed).toBeUndefined();
    else expect(listed?.verifiable_address).toBe("+4917655504003");
  });
});
