import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it, vi } from "vitest";
import { isOurMessageId } from "../../src/core/message-ids.js";
import { ROOT } from "../support/cli.js";
import { allMessageIds, type KratosAnswer, newPassword, passwordSignUp } from "./kratos-client.js";
import { freePort, startProcess, waitUntilReady } from "./processes.js";
import { E2E_HOOKS_CONFIG, kratosEnv, useStack } from "./stack.js";

// docs/troubleshooting.md and docs/operations.md quote Kratos. Each quote is marked in the page as
// `<!-- kratos-says: <the exact text> -->`. This file drives real Kratos v1.3.1 into each situation
// the pages describe, keeps what Kratos logged and answered, and checks that every marked quote
// is in there: a quote nobody saw Kratos say fails the suite.

const PAGES = ["docs/troubleshooting.md", "docs/operations.md"];
const MARKER = /<!-- kratos-says: (.+?) -->/g;

/** The quotes a page marks, in order. */
function kratosQuotes(text: string): string[] {
  return [...text.matchAll(MARKER)].map((match) => match[1] ?? "");
}

/** Everything Kratos logged or answered in the scenarios below. */
const seen: string[] = [];
const keep = (what: string) => seen.push(what, what.replaceAll('\\"', '"'));
const answer = (res: { status: number; body: KratosAnswer }) => keep(JSON.stringify(res.body));

const e2e = useStack();
/** The same stack, except that Kratos sends registration-after a key our service does not have. */
const wrongKey = useStack(E2E_HOOKS_CONFIG, {
  editKratos: (config) => {
    const hooks = (config as { selfservice: { flows: { registration: { after: { password: { hooks: Record<string, unknown>[] } } } } } })
      .selfservice.flows.registration.after.password.hooks;
    for (const hook of hooks) {
      const settings = hook.config as Record<string, unknown> | undefined;
      if (hook.hook === "web_hook" && settings !== undefined) {
        hook.config = {
          ...settings,
          auth: { type: "api_key", config: { name: "Authorization", value: "Bearer not-our-key", in: "header" } },
        };
      }
    }
  },
});

afterAll(() => {
  // Shown when a quote is missing: what Kratos did say.
  if (process.env.E2E_SHOW_KRATOS === "1") console.log(seen.join("\n"));
});

describe("docs/troubleshooting.md and docs/operations.md quote only what Kratos says", () => {
  it("a wrong key: Kratos fails the sign-up", async () => {
    const res = await wrongKey.kratos.run("registration", passwordSignUp({ phone: "0176 1234 5690" }, "DE"));
    answer(res);
    expect(res.body.error?.code).toBe(500);
    keep(wrongKey.stack.kratos.output());
  });

  it("a legitimate denial (a national number with no region): 422, and Kratos logs it as an error", async () => {
    const res = await e2e.kratos.run("registration", passwordSignUp({ phone: "0176 1234 5691" }));
    answer(res);
    expect(res.status).toBe(400);
    expect(allMessageIds(res.body).some(isOurMessageId)).toBe(true);
    // Kratos's log line may reach the pipe a moment after its answer.
    await vi.waitFor(() => expect(e2e.stack.kratos.output()).toMatch(/"level":"error","msg":"Webhook request failed"/));
    keep(e2e.stack.kratos.output());
  });

  it("a number typed differently at login, straight to Kratos: invalid credentials", async () => {
    const password = newPassword();
    expect((await e2e.kratos.run("registration", passwordSignUp({ phone: "0176 1234 5692" }, "DE", password))).status).toBe(200);
    const res = await e2e.kratos.run("login", { method: "password", identifier: "0176 1234 5692", password });
    answer(res);
    expect(res.body.ui?.messages?.map((m) => m.id)).toEqual([4000006]);
  });

  it("the hooks are down: Kratos gives up after three attempts", async () => {
    const flow = await e2e.kratos.createFlow("registration");
    await e2e.stack.stopHooks();
    try {
      answer(await e2e.kratos.submit("registration", flow.body.id ?? "", passwordSignUp({ phone: "0176 1234 5693" }, "DE")));
    } finally {
      await e2e.stack.restartHooks();
    }
    keep(e2e.stack.kratos.output());
  });

  it("an identity schema without properties: Kratos refuses to start", async () => {
    const [publicPort, adminPort] = [await freePort(), await freePort()];
    const kratos = startProcess("kratos", inject("kratosBin"), ["serve", "--config", "kratos.yml"], {
      cwd: join(ROOT, "test/fixtures/doctor/schema-no-properties"),
      env: kratosEnv(publicPort, adminPort),
    });
    await expect(waitUntilReady(kratos, `http://127.0.0.1:${adminPort}/admin/health/ready`, 20_000)).rejects.toThrow();
    await kratos.stop();
    keep(kratos.output());
  });

  it.each(PAGES)("every quote marked in %s is in what Kratos logged or answered", (page) => {
    const quotes = kratosQuotes(readFileSync(join(ROOT, page), "utf8"));
    expect(quotes.length).toBeGreaterThan(0);
    const haystack = seen.join("\n");
    const missing = quotes.filter((quote) => !haystack.includes(quote));
    expect(missing, "quoted in the page, never said by Kratos (E2E_SHOW_KRATOS=1 prints what it said)").toEqual([]);
  });
});
