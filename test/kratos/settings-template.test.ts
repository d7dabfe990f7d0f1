// The shipped settings-after body (kratos/hooks/settings-after.jsonnet) as Kratos renders it from
// its ctx: what Kratos v25.4+/v26.2 adds goes through, reduced, and a v1.3.1 ctx renders as before.
// test/e2e/try-agreement.e2e.test.ts renders the same template with Kratos's go-jsonnet.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderTemplate } from "../../src/cli/jsonnet.js";
import type { HookInput } from "../../src/core/decision.js";
import { definePolicy, proceed } from "../../src/core/define-policy.js";
import { type AnyJSON, createTestApp, loadFixture } from "../support/helpers.js";

const TEMPLATE = readFileSync(new URL("../../kratos/hooks/settings-after.jsonnet", import.meta.url), "utf8");

async function render(ctx: unknown): Promise<AnyJSON> {
  const rendered = await renderTemplate(TEMPLATE, "settings-after.jsonnet", ctx);
  if (rendered.kind !== "body") throw new Error(`the template did not render: ${JSON.stringify(rendered)}`);
  return rendered.value;
}

describe("kratos/hooks/settings-after.jsonnet", () => {
  it("renders of a v26.2 session only its id, assurance level, time of authentication and methods, and the external_id", async () => {
    const body = await render(loadFixture("settings-after.profile-v26-session"));
    expect(body.session).toEqual({
      id: "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
      authenticator_assurance_level: "aal2",
      authenticated_at: "2026-07-29T09:41:05.123456789Z",
      authentication_methods: [
        { method: "password", aal: "aal1", completed_at: "2026-07-29T09:40:31.004512Z" },
        { method: "totp", aal: "aal2", completed_at: "2026-07-29T09:41:05.123456789Z" },
      ],
    });
    expect(body.identity.external_id).toBe("crm-000123");
    expect(JSON.stringify(body)).not.toMatch(/devices|203\.0\.113\.7|request_cookies|ory_kratos_session/);
  });

  it("renders of each method only its method, aal and completion time (not an OIDC provider's details)", async () => {
    const ctx = loadFixture("settings-after.profile-v26-session") as AnyJSON;
    const oidc = {
      method: "oidc",
      aal: "aal1",
      completed_at: "2026-07-29T09:40:00Z",
      provider: "google",
      upstream_acr: "x",
      upstream_amr: ["pwd"],
    };
    ctx.session.authentication_methods = [oidc];
    expect((await render(ctx)).session.authentication_methods).toEqual([
      { method: "oidc", aal: "aal1", completed_at: "2026-07-29T09:40:00Z" },
    ]);
  });

  it("renders a v1.3.1 ctx (no session, no external_id) without either key", async () => {
    const body = await render(loadFixture("settings-after.profile-unchanged"));
    expect(Object.keys(body).sort()).toEqual(["flow", "identity", "request_headers", "request_method", "request_url"]);
    expect(Object.keys(body.identity).sort()).toEqual(["id", "metadata_public", "schema_id", "traits"]);
  });

  it("renders a session whose authentication_methods is null (an unset Go slice) with none, and a null session as none", async () => {
    const ctx = loadFixture("settings-after.profile-v26-session") as AnyJSON;
    ctx.session.authentication_methods = null;
    expect((await render(ctx)).session.authentication_methods).toEqual([]);
    ctx.session = null;
    expect(await render(ctx)).not.toHaveProperty("session");
  });

  it("the service reads the rendered body as it reads the whole ctx: the same input for a policy", async () => {
    const seen: HookInput[] = [];
    const spy = definePolicy({
      name: "spy",
      hooks: ["settings-after"],
      decide(input) {
        seen.push(input);
        return proceed();
      },
    });
    const app = createTestApp({ policies: [spy] });
    const ctx = loadFixture("settings-after.profile-v26-session");
    expect((await app.call("settings-after", await render(ctx))).status).toBe(204);
    expect((await app.call("settings-after", ctx)).status).toBe(204);
    expect(seen[0]?.session).toBeDefined();
    expect(seen[0]?.identity?.externalId).toBe("crm-000123");
    expect(seen[0]).toEqual(seen[1]);
  });
});

describe("kratos/hooks/login-after.jsonnet", () => {
  const LOGIN = readFileSync(new URL("../../kratos/hooks/login-after.jsonnet", import.meta.url), "utf8");
  const renderLogin = async (ctx: unknown): Promise<AnyJSON> => {
    const rendered = await renderTemplate(LOGIN, "login-after.jsonnet", ctx);
    if (rendered.kind !== "body") throw new Error(`the template did not render: ${JSON.stringify(rendered)}`);
    return rendered.value;
  };

  it("sends the stored identity's id and how the session's holder authenticated, which a policy reads as input.identity.id and input.session", async () => {
    const ctx = loadFixture("login-after.password") as AnyJSON;
    ctx.session = {
      id: "00000000-0000-0000-0000-000000000000",
      authenticator_assurance_level: "aal1",
      authenticated_at: "2026-07-29T09:40:31Z",
      authentication_methods: [{ method: "password", aal: "aal1", completed_at: "2026-07-29T09:40:31Z" }],
      tokenized: "a-token",
      devices: [{ ip_address: "203.0.113.9" }],
      identity: ctx.identity,
    };
    const body = await renderLogin(ctx);
    expect(body.identity.id).toBe(ctx.identity.id);
    // Never the session's token, devices or nested identity.
    expect(Object.keys(body.session).sort()).toEqual(["authenticated_at", "authentication_methods", "authenticator_assurance_level", "id"]);
    const seen: HookInput[] = [];
    const spy = definePolicy({
      name: "spy",
      hooks: ["login-after"],
      decide: (input) => {
        seen.push(input as HookInput);
        return proceed();
      },
    });
    const res = await createTestApp({ policies: [spy] }).call("login-after", body);
    expect(res.status).toBe(204);
    expect(seen[0]?.identity?.id).toBe(ctx.identity.id);
    expect(seen[0]?.session?.authenticationMethods.map((m) => m.method)).toEqual(["password"]);
  });

  it("renders a ctx without a session (Kratos v1.1) without the key", async () => {
    const ctx = loadFixture("login-after.password") as AnyJSON;
    delete ctx.session;
    const body = await renderLogin(ctx);
    expect(Object.keys(body).sort()).toEqual(["flow", "identity", "request_headers", "request_method", "request_url"]);
  });
});
