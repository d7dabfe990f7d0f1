// A policy of a user's own whose peer is down (connection refused), against real Kratos: Kratos
// gets our failMode answer at once, never a 500 it retries three times and then shows with our
// URL (docs/library.md#when-a-policy-fails).
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MESSAGES } from "../../src/core/messages.js";
import { allMessageIds, type KratosAnswer, newPassword, passwordSignUp } from "./kratos-client.js";
import { type Stack, useStack } from "./stack.js";

const ENTRY = fileURLToPath(new URL("./failing-policy-hooks.mjs", import.meta.url));
const closed = useStack({ failMode: "closed" }, { hooksEntry: ENTRY });
const open = useStack({ failMode: "open" }, { hooksEntry: ENTRY });

function lines(stack: Stack): Record<string, unknown>[] {
  return stack.hooks.process
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The last log line that matches, once the service's output has reached us (it arrives through a pipe). */
async function lastLine(stack: Stack, match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown> | undefined> {
  for (let waited = 0; waited < 5_000; waited += 50) {
    const found = lines(stack).findLast(match);
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

/** What the person reads: the flow's messages above the form, as a UI renders `ui.messages`. */
function shownAboveTheForm(body: KratosAnswer): { id: number; text: string }[] {
  return (body.ui?.messages ?? []).map((m) => ({ id: m.id, text: m.text }));
}

const FAILED = { id: MESSAGES.HOOK_FAILED.id, text: MESSAGES.HOOK_FAILED.text };

describe("failMode closed: a policy whose peer is down", () => {
  it("refuses the sign-up with our message above the form, at once: one hook call, no retry, no identity, no 500", async () => {
    const before = (await closed.kratos.allIdentities()).length;
    const calls = () => lines(closed.stack).filter((l) => l.msg === "hook call" && l.hook === "registration-after").length;
    const callsBefore = calls();
    const res = await closed.kratos.run("registration", passwordSignUp({ phone: "0176 1234 5670" }, "DE"));
    expect(res.status).toBe(400);
    expect(shownAboveTheForm(res.body)).toEqual([FAILED]);
    // Nothing of ours leaks into what the person sees: no URL, no "giving up after 3 attempt(s)".
    expect(JSON.stringify(res.body)).not.toMatch(/\/hooks\/|giving up|attempt/);
    expect(res.body.error).toBeUndefined();
    expect((await closed.kratos.allIdentities()).length).toBe(before);
    const failure = await lastLine(closed.stack, (l) => l.msg === "policy failed" && l.hook === "registration-after");
    // Kratos answered after its last attempt: once our log lines have arrived, there was one.
    await lastLine(closed.stack, (l) => l.msg === "hook call" && l.decision === "failed");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls() - callsBefore).toBe(1);
    expect(failure).toMatchObject({
      level: 50,
      policy: "invites",
      hook: "registration-after",
      builtIn: false,
      failMode: "closed",
      status: 422,
    });
    expect(JSON.stringify(failure)).not.toContain("4917612345670");
  });

  it("a sign-up the failing peer is not asked about goes through: the failure is the policy's, not the service's", async () => {
    const res = await closed.kratos.run("registration", passwordSignUp({ phone: "0176 1234 5671" }, "DE"));
    expect(res.status).toBe(200);
  });

  it("refuses the login with our message on the login form and issues no session", async () => {
    const password = newPassword();
    const registered = await closed.kratos.run("registration", passwordSignUp({ phone: "0176 1234 5672" }, "DE", password));
    expect(registered.status).toBe(200);
    const id = registered.body.identity?.id ?? "";
    await closed.kratos.admin.deleteIdentitySessions({ id });
    const res = await closed.kratos.run("login", { method: "password", identifier: "+4917612345672", password });
    expect(res.status).toBe(400);
    expect(allMessageIds(res.body)).toEqual([MESSAGES.HOOK_FAILED.id]);
    expect(shownAboveTheForm(res.body)).toEqual([FAILED]);
    expect(res.body.session_token).toBeUndefined();
    expect((await closed.kratos.admin.listIdentitySessions({ id })).data).toEqual([]);
    // login-after carries the stored identity's id and how the person signed in.
    const read = await lastLine(closed.stack, (l) => l.msg === "risk check");
    expect(read).toMatchObject({ identityId: id, aal: "aal1", methods: ["password"] });
  });
});

describe("failMode open: a policy whose peer is down", () => {
  it("saves the identity with everything decided before the failure: E.164, the routed schema, the tag", async () => {
    const res = await open.kratos.run("registration", passwordSignUp({ phone: "0176 1234 5670" }, "DE"));
    expect(res.status).toBe(200);
    const stored = (await open.kratos.admin.getIdentity({ id: res.body.identity?.id ?? "" })).data;
    expect(stored.schema_id).toBe("phone");
    expect(stored.traits).toEqual({ phone: "+4917612345670" });
    expect(stored.metadata_public).toEqual({ signup_source: "e2e" });
    const failure = await lastLine(open.stack, (l) => l.msg === "policy failed" && l.policy === "invites");
    expect(failure).toMatchObject({ level: 50, policy: "invites", failMode: "open", status: 200 });
  });

  it("lets the login through with a session", async () => {
    const password = newPassword();
    const registered = await open.kratos.run("registration", passwordSignUp({ phone: "0176 1234 5673" }, "DE", password));
    expect(registered.status).toBe(200);
    const res = await open.kratos.run("login", { method: "password", identifier: "+4917612345673", password });
    expect(res.status).toBe(200);
    expect(res.body.session_token).toEqual(expect.any(String));
    expect(await lastLine(open.stack, (l) => l.msg === "policy failed" && l.policy === "risk")).toMatchObject({
      hook: "login-after",
      failMode: "open",
      status: 204,
    });
  });
});
