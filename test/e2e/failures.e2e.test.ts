import { once } from "node:events";
import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { allMessageIds, type KratosAnswer, newPassword, passwordSignUp } from "./kratos-client.js";
import { kratosAtLeast, useStack } from "./stack.js";

const e2e = useStack();

const signUp = (phone: string, password?: string) => passwordSignUp({ phone }, "DE", password);

/**
 * What docs/kratos-wiring.md promises when the service cannot answer (contract §2.2, §4.1): Kratos tries
 * three times (1 s, then 2 s apart), then fails the flow with an internal error: a native flow
 * gets HTTP 400 carrying `error.code` 500 and "giving up after 3 attempt(s)"; creating a flow
 * gets HTTP 500. Nothing is stored, no session is issued, and messages in a 5xx body are never
 * shown. Fail-closed.
 */
function expectGaveUp(res: { status: number; body: KratosAnswer }, hook: string): void {
  expect(res.status).toBe(400);
  expect(res.body.error?.code).toBe(500);
  expect(res.body.error?.message).toContain(`/hooks/${hook} giving up after 3 attempt(s)`);
}

describe("when our service is down or answers 5xx", () => {
  it("down: no registration flow starts, a started one fails with an internal error, nothing is stored", async () => {
    const flow = await e2e.kratos.createFlow("registration");
    expect(flow.status).toBe(200);
    const before = (await e2e.kratos.allIdentities()).length;
    await e2e.stack.stopHooks();
    try {
      expectGaveUp(await e2e.kratos.submit("registration", flow.body.id ?? "", signUp("0176 1234 5680")), "registration-after");
      expect((await e2e.kratos.allIdentities()).length).toBe(before);
      // registration-before cannot be reached either, so no new flow starts.
      expect((await e2e.kratos.createFlow("registration")).status).toBe(500);
    } finally {
      await e2e.stack.restartHooks();
    }
    // Back up: the same sign-up goes through.
    expect((await e2e.kratos.run("registration", signUp("0176 1234 5680"))).status).toBe(200);
  });

  it("down: login fails with an internal error and issues no session", async () => {
    const password = newPassword();
    const registered = await e2e.kratos.run("registration", signUp("0176 1234 5681", password));
    expect(registered.status).toBe(200);
    const id = registered.body.identity?.id ?? "";
    await e2e.kratos.admin.deleteIdentitySessions({ id });
    const flow = await e2e.kratos.createFlow("login");
    await e2e.stack.stopHooks();
    try {
      const res = await e2e.kratos.submit("login", flow.body.id ?? "", { method: "password", identifier: "+4917612345681", password });
      expectGaveUp(res, "login-after");
      expect(res.body.session_token).toBeUndefined();
      expect((await e2e.kratos.admin.listIdentitySessions({ id })).data).toEqual([]);
    } finally {
      await e2e.stack.restartHooks();
    }
  });

  it("5xx: Kratos tries three times (v25.4+: one Ory-Webhook-Trigger-ID, a new request id each time), never shows the messages of a 5xx body, stores nothing", async () => {
    // In place of our service: before-hooks pass, registration-after answers 503 with a
    // well-formed messages body, which Kratos only reads from a 4xx.
    const attempts: string[] = [];
    const ids: { trigger?: string; request?: string }[] = [];
    const standIn = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        if (req.url?.endsWith("-before")) {
          res.writeHead(204).end();
          return;
        }
        attempts.push(req.url ?? "");
        ids.push({
          trigger: req.headers["ory-webhook-trigger-id"] as string | undefined,
          request: req.headers["ory-webhook-request-id"] as string | undefined,
        });
        res.writeHead(503, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ messages: [{ instance_ptr: "#/traits/phone", messages: [{ id: 4100001, text: "x", type: "error" }] }] }));
      });
    });
    const before = (await e2e.kratos.allIdentities()).length;
    await e2e.stack.stopHooks();
    standIn.listen(e2e.stack.hooks.port, "127.0.0.1");
    await once(standIn, "listening");
    try {
      const res = await e2e.kratos.run("registration", signUp("0176 1234 5682"));
      expectGaveUp(res, "registration-after");
      expect(JSON.stringify(res.body)).not.toContain("4100001");
      expect(allMessageIds(res.body)).toEqual([]);
      expect(attempts).toEqual(["/hooks/registration-after", "/hooks/registration-after", "/hooks/registration-after"]);
      if (kratosAtLeast("v25.4.0")) {
        // The de-duplication key a policy gets as context.triggerId: the same on every attempt.
        expect(new Set(ids.map((id) => id.trigger)).size).toBe(1);
        expect(ids[0]?.trigger).toMatch(/^[0-9a-f-]{36}$/);
        expect(new Set(ids.map((id) => id.request)).size).toBe(3);
      } else {
        expect(ids.map((id) => id.trigger)).toEqual([undefined, undefined, undefined]);
      }
      expect((await e2e.kratos.allIdentities()).length).toBe(before);
    } finally {
      standIn.close();
      standIn.closeAllConnections();
      await once(standIn, "close");
      await e2e.stack.restartHooks();
    }
  });

  it("Kratos never failed to read one of our answers", () => {
    expect(e2e.stack.misreadAnswers()).toEqual([]);
  });
});
