import { describe, expect, it } from "vitest";
import { definePolicy } from "../../src/core/define-policy.js";
import { MESSAGES } from "../../src/core/messages.js";
import { builtIn, type Policy } from "../../src/core/policy.js";
import { bodyOf, createTestApp, loadFixture, OTHER_KEY, registration, TEST_KEY } from "../support/helpers.js";

const national = () => loadFixture("registration-after.password-phone-national");

describe("answers on the wire, exactly as Kratos parses them", () => {
  it("no change: 204 with an empty body", async () => {
    const res = await createTestApp().call("settings-after", loadFixture("settings-after.profile-unchanged"));
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
  });

  it("change: 200 with only the changed top-level fields, traits whole", async () => {
    const res = await createTestApp().call("registration-after", loadFixture("registration-after.email-and-phone"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.text()).toMatchInlineSnapshot(
      `"{"identity":{"schema_id":"email","traits":{"email":"marie.curie@example.fr","phone":"+33612345678"}}}"`,
    );
  });

  it("change of schema only: traits are not sent", async () => {
    const res = await createTestApp().call("registration-after", loadFixture("registration-after.password-phone-e164"));
    expect(await res.text()).toMatchInlineSnapshot(`"{"identity":{"schema_id":"phone"}}"`);
  });

  it("change on settings-after: traits only, the schema stays", async () => {
    const res = await createTestApp().call("settings-after", loadFixture("settings-after.profile-phone-changed"));
    expect(await res.text()).toMatchInlineSnapshot(`"{"identity":{"traits":{"phone":"+4917612345678"}}}"`);
  });

  it("deny: 422 with messages on the field", async () => {
    const res = await createTestApp().call("registration-after", loadFixture("registration-after.phone-no-region"));
    expect(res.status).toBe(422);
    expect(await res.text()).toMatchInlineSnapshot(
      `"{"messages":[{"instance_ptr":"#/traits/phone","messages":[{"id":4100002,"text":"Enter the phone number in international format, starting with + and the country code (for example +49 176 12345678).","type":"error","context":{"reason":"region_required"}}]}]}"`,
    );
  });

  it("deny on login: 422 with a global message", async () => {
    const app = createTestApp({ config: { denyRules: { denyDomains: ["example.com"] } } });
    const res = await app.call("login-after", loadFixture("login-after.password"));
    expect(await res.text()).toMatchInlineSnapshot(
      `"{"messages":[{"instance_ptr":"#/","messages":[{"id":4100201,"text":"Signing in to this account is not possible. Contact support if you think this is a mistake.","type":"error","context":{"reason":"email_domain_denied"}}]}]}"`,
    );
  });

  it("a before-hook never answers with an identity", async () => {
    for (const fixture of ["registration-before.browser", "registration-before.api-script", "login-before.browser"]) {
      const hook = fixture.split(".")[0] ?? "";
      const res = await createTestApp().call(hook, loadFixture(fixture));
      expect(res.status).toBe(204);
    }
  });
});

describe("auth", () => {
  const post = (headers: Record<string, string>, keys?: string[]) => {
    const { app } = createTestApp({ ...(keys ? { keys } : {}) });
    return app.request("/hooks/registration-after", {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(national()),
    });
  };
  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

  it.each<{ title: string; headers: Record<string, string>; status: number }>([
    { title: "Bearer with the key", headers: { authorization: `Bearer ${TEST_KEY}` }, status: 200 },
    { title: "scheme is case-insensitive", headers: { authorization: `bearer ${TEST_KEY}` }, status: 200 },
    { title: "Basic with the key as password, any user", headers: { authorization: basic("kratos", TEST_KEY) }, status: 200 },
    { title: "Basic with an empty user", headers: { authorization: basic("", TEST_KEY) }, status: 200 },
    { title: "no credentials", headers: {}, status: 401 },
    { title: "wrong Bearer key", headers: { authorization: "Bearer wrong-key-0123456789" }, status: 401 },
    { title: "key as Basic user name instead of password", headers: { authorization: basic(TEST_KEY, "x") }, status: 401 },
    { title: "Basic without a colon", headers: { authorization: `Basic ${Buffer.from(TEST_KEY).toString("base64")}` }, status: 401 },
    { title: "Basic that is not base64", headers: { authorization: "Basic %%%" }, status: 401 },
    { title: "a prefix of the key", headers: { authorization: `Bearer ${TEST_KEY.slice(0, -1)}` }, status: 401 },
    { title: "the key with a suffix", headers: { authorization: `Bearer ${TEST_KEY}x` }, status: 401 },
    { title: "raw key without a scheme", headers: { authorization: TEST_KEY }, status: 401 },
    { title: "empty Bearer", headers: { authorization: "Bearer " }, status: 401 },
  ])("$title → $status", async ({ headers, status }) => {
    expect((await post(headers)).status).toBe(status);
  });

  it("accepts every key during a rotation, old and new", async () => {
    expect((await post({ authorization: `Bearer ${TEST_KEY}` }, [TEST_KEY, OTHER_KEY])).status).toBe(200);
    expect((await post({ authorization: `Bearer ${OTHER_KEY}` }, [TEST_KEY, OTHER_KEY])).status).toBe(200);
    expect((await post({ authorization: `Bearer ${TEST_KEY}` }, [OTHER_KEY])).status).toBe(401);
  });

  it("401 is JSON, names the accepted forms and comes before any parsing", async () => {
    const { app } = createTestApp();
    const res = await app.request("/hooks/registration-after", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "not json",
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    expect(await bodyOf(res)).toEqual({
      error: {
        code: "unauthorized",
        message: "missing or wrong credentials: send Authorization: Bearer <key>, or Basic auth with the key as password",
        path: null,
      },
    });
  });

  it("health needs no auth", async () => {
    const res = await createTestApp().app.request("/health");
    expect(res.status).toBe(200);
    expect(await bodyOf(res)).toEqual({ status: "ok" });
  });
});

describe("bad input: a clear 4xx that names the problem, never a 5xx", () => {
  it.each<[string, string, Record<string, string>, number, { code: string; message: string; path: string | null }]>([
    ["not JSON", "{nope", {}, 400, { code: "invalid_json", message: "body is not valid UTF-8 JSON", path: null }],
    ["empty body", "", {}, 400, { code: "invalid_json", message: "body is not valid UTF-8 JSON", path: null }],
    [
      "wrong content type",
      "{}",
      { "content-type": "application/x-www-form-urlencoded" },
      400,
      {
        code: "unsupported_content_type",
        message: 'expected Content-Type: application/json, found "application/x-www-form-urlencoded"',
        path: null,
      },
    ],
    ["JSON but not an object", "[1,2]", {}, 400, { code: "invalid_payload", message: "body: expected object, found an array", path: "" }],
    ["missing flow", "{}", {}, 400, { code: "invalid_payload", message: "flow: expected object, it is missing", path: "flow" }],
    [
      "missing identity on an after-hook",
      '{"flow":{}}',
      {},
      400,
      { code: "invalid_payload", message: "identity: expected object, it is missing", path: "identity" },
    ],
    [
      "traits of the wrong type",
      '{"flow":{},"identity":{"schema_id":"default","traits":"+4917612345678"}}',
      {},
      400,
      { code: "invalid_payload", message: "identity.traits: expected object, found a string", path: "identity.traits" },
    ],
    [
      "null traits",
      '{"flow":{},"identity":{"schema_id":"default","traits":null}}',
      {},
      400,
      { code: "invalid_payload", message: "identity.traits: expected object, found null", path: "identity.traits" },
    ],
    [
      "missing schema_id",
      '{"flow":{},"identity":{"traits":{}}}',
      {},
      400,
      { code: "invalid_payload", message: "identity.schema_id: expected string, it is missing", path: "identity.schema_id" },
    ],
    [
      "empty schema_id",
      '{"flow":{},"identity":{"schema_id":"","traits":{}}}',
      {},
      400,
      {
        code: "invalid_payload",
        message: "identity.schema_id: expected string to have >=1 characters, found a string",
        path: "identity.schema_id",
      },
    ],
    [
      "transient_payload not an object",
      '{"flow":{"transient_payload":"DE"},"identity":{"schema_id":"default","traits":{}}}',
      {},
      400,
      { code: "invalid_payload", message: "flow.transient_payload: expected object, found a string", path: "flow.transient_payload" },
    ],
    [
      "headers of the wrong shape",
      '{"flow":{},"request_headers":{"User-Agent":[1]},"identity":{"schema_id":"default","traits":{}}}',
      {},
      400,
      { code: "invalid_payload", message: expect.stringContaining("request_headers.User-Agent"), path: "request_headers.User-Agent" },
    ],
  ])("%s", async (_title, body, headers, status, error) => {
    const res = await createTestApp().call("registration-after", body, { headers });
    expect(res.status).toBe(status);
    expect(await bodyOf(res)).toEqual({ error });
  });

  it("invalid UTF-8 is a 400", async () => {
    const { app } = createTestApp();
    const res = await app.request("/hooks/registration-after", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
      body: new Uint8Array([0x7b, 0xff, 0x7d]),
    });
    expect(res.status).toBe(400);
  });

  it("a before-hook needs only flow, and ignores unknown keys", async () => {
    const res = await createTestApp().call("login-before", { flow: { id: "x" }, something_new: [1, 2, 3], request_cookies: { a: "b" } });
    expect(res.status).toBe(204);
  });

  it("a body over 1 MiB is 413, whether declared or streamed", async () => {
    const big = JSON.stringify({ ...national(), padding: "x".repeat(1024 * 1024) });
    const declared = await createTestApp().call("registration-after", big);
    expect(declared.status).toBe(413);
    expect(await bodyOf(declared)).toEqual({
      error: { code: "payload_too_large", message: "request body exceeds 1048576 bytes", path: null },
    });

    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.byteLength;
        if (sent > 4 * 1024 * 1024) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const { app } = createTestApp();
    const streamed = await app.request("/hooks/registration-after", {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(sent).toBeLessThan(2 * 1024 * 1024);
  });

  it("a body of exactly 1 MiB is read", async () => {
    const base = JSON.stringify(national());
    const padded = `${base.slice(0, -1)},"padding":"${"x".repeat(1024 * 1024 - base.length - 13)}"}`;
    expect(new TextEncoder().encode(padded).byteLength).toBe(1024 * 1024);
    expect((await createTestApp().call("registration-after", padded)).status).toBe(200);
  });

  it.each([
    ["/", "GET"],
    ["/hooks", "POST"],
    ["/hooks/registration-after/extra", "POST"],
    ["/hooks/recovery-after", "POST"],
  ])("unknown path %s → 404 JSON", async (path, method) => {
    const res = await createTestApp().app.request(path, { method });
    expect(res.status).toBe(404);
    expect((await bodyOf(res)).error.code).toBe("not_found");
  });

  it.each(["GET", "PUT", "DELETE", "PATCH"])("%s on a hook path → 405 JSON with Allow", async (method) => {
    const res = await createTestApp().call("registration-after", national(), { method });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect((await bodyOf(res)).error.code).toBe("method_not_allowed");
  });

  it("POST /health → 405", async () => {
    expect((await createTestApp().app.request("/health", { method: "POST" })).status).toBe(405);
  });
});

/** The one global message a policy's failure is refused with (fail-closed, or any built-in policy). */
const HOOK_FAILED_BODY = {
  messages: [
    {
      instance_ptr: "#/",
      messages: [{ id: 4100902, text: MESSAGES.HOOK_FAILED.text, type: "error", context: { reason: "error" } }],
    },
  ],
};

describe("time budget and our own bugs", () => {
  /** An async policy that never answers, and remembers the signal it was given. */
  function hanging(seen: AbortSignal[] = []): Policy {
    return {
      name: "hang",
      hooks: new Set(["registration-after"]),
      decide: (_input, context) => {
        seen.push(context.signal);
        return new Promise(() => {});
      },
    };
  }
  const recorder = (ran: string[]): Policy => ({
    name: "after",
    hooks: new Set(["registration-after"]),
    decide: () => {
      ran.push("after");
      return { kind: "continue" };
    },
  });

  it("fail-closed (default): a policy that never answers gets a global 422 HOOK_TIMEOUT, its signal fires, later policies do not run", async () => {
    const seen: AbortSignal[] = [];
    const ran: string[] = [];
    const app = createTestApp({ config: { budgetMs: 30 }, policies: [hanging(seen), recorder(ran)] });
    const res = await app.call("registration-after", national());
    expect(res.status).toBe(422);
    expect((await bodyOf(res)).messages).toEqual([
      {
        instance_ptr: "#/",
        messages: [{ id: 4100901, text: expect.any(String), type: "error", context: { reason: "timeout" } }],
      },
    ]);
    expect(seen.map((signal) => signal.aborted)).toEqual([true]);
    expect(ran).toEqual([]);
    expect(app.logs().find((l) => l.msg === "hook exceeded its time budget")).toMatchObject({ budgetMs: 30, policy: "hang" });
    expect(app.logs().find((l) => l.msg === "hook call")).toMatchObject({
      decision: "timeout",
      status: 422,
      policy: "hang",
      messages: ["HOOK_TIMEOUT"],
    });
  });

  it("fail-open: 204 when the budget is exceeded, the flow goes on unchanged", async () => {
    const app = createTestApp({ config: { budgetMs: 30, failMode: "open" }, policies: [hanging()] });
    const res = await app.call("registration-after", national());
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(app.logs().find((l) => l.msg === "hook call")).toMatchObject({ decision: "timeout", status: 204, messages: [] });
  });

  it("a policy that passes the signal on (fetch-style, rejecting once aborted) is a timeout, not a 500", async () => {
    const honours: Policy = {
      name: "honours",
      hooks: new Set(["registration-after"]),
      decide: (_input, { signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))),
    };
    const res = await createTestApp({ config: { budgetMs: 30 }, policies: [honours] }).call("registration-after", national());
    expect(res.status).toBe(422);
  });

  it("an async policy that answers within the budget is answered as usual, and its budget timer does not fire later", async () => {
    const seen: AbortSignal[] = [];
    const quick: Policy = {
      name: "quick",
      hooks: new Set(["registration-after"]),
      decide: async (_input, context) => {
        seen.push(context.signal);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { kind: "patch", identity: { schemaId: "phone" } };
      },
    };
    const res = await createTestApp({ config: { budgetMs: 50 }, policies: [quick] }).call("registration-after", national());
    expect(res.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(seen.map((signal) => signal.aborted)).toEqual([false]);
  });

  it("the budget bounds waiting, not CPU work: a synchronous policy past the budget runs to its end and its answer stands", async () => {
    const busy: Policy = {
      name: "busy",
      hooks: new Set(["registration-after"]),
      decide: () => {
        const until = performance.now() + 40;
        while (performance.now() < until) {
          // A synchronous policy cannot be interrupted; the budget's timer cannot run meanwhile.
        }
        return { kind: "patch", identity: { schemaId: "phone" } };
      },
    };
    const ran: string[] = [];
    const res = await createTestApp({ config: { budgetMs: 10 }, policies: [busy, recorder(ran)] }).call("registration-after", national());
    expect(res.status).toBe(200);
    expect(ran).toEqual(["after"]);
    expect((await bodyOf(res)).identity).toEqual({ schema_id: "phone" });
  });

  it("fail-open: a timeout after a patching policy answers that policy's patch, and the late one's nothing", async () => {
    const router: Policy = {
      name: "router",
      hooks: new Set(["registration-after"]),
      decide: () => ({ kind: "patch", identity: { schemaId: "phone" } }),
    };
    const app = createTestApp({ config: { budgetMs: 30, failMode: "open" }, policies: [router, hanging()] });
    const res = await app.call("registration-after", national());
    expect(res.status).toBe(200);
    expect(await bodyOf(res)).toEqual({ identity: { schema_id: "phone" } });
    expect(app.logs().find((l) => l.msg === "hook call")).toMatchObject({ decision: "timeout", status: 200, policy: "hang", messages: [] });
  });

  it("an async policy that rejects before the budget is a failure, not a timeout: 422 HOOK_FAILED fail-closed, 204 fail-open, never a 500", async () => {
    const rejects: Policy = {
      name: "rejects",
      hooks: new Set(["registration-after"]),
      decide: () => Promise.reject(new Error("peer said no")),
    };
    const closed = createTestApp({ config: { budgetMs: 1000 }, policies: [rejects] });
    const refused = await closed.call("registration-after", national());
    expect(refused.status).toBe(422);
    expect(await bodyOf(refused)).toEqual(HOOK_FAILED_BODY);
    expect(closed.logs().find((l) => l.msg === "policy failed")).toMatchObject({
      policy: "rejects",
      builtIn: false,
      failMode: "closed",
      status: 422,
      failure: "policy rejects on registration-after threw: peer said no",
    });
    expect(closed.logs().some((l) => l.msg === "hook exceeded its time budget" || l.msg === "internal error")).toBe(false);

    const open = createTestApp({ config: { budgetMs: 1000, failMode: "open" }, policies: [rejects] });
    const goesOn = await open.call("registration-after", national());
    expect(goesOn.status).toBe(204);
    expect(await goesOn.text()).toBe("");
    expect(open.logs().find((l) => l.msg === "policy failed")).toMatchObject({ policy: "rejects", failMode: "open", status: 204 });
    expect(open.logs().find((l) => l.msg === "hook call")).toMatchObject({
      decision: "failed",
      status: 204,
      policy: "rejects",
      messages: [],
    });
  });

  it("a policy that throws is a global 422 HOOK_FAILED that reveals nothing; its error line names the policy and the request id, with what it threw masked", async () => {
    const broken: Policy = {
      name: "broken",
      hooks: new Set(["registration-after"]),
      decide: () => {
        throw new Error("bug while reading +4917612345678 for jane@example.com");
      },
    };
    const app = createTestApp({ policies: [broken] });
    const res = await app.call("registration-after", national(), { headers: { "ory-webhook-request-id": "req-123" } });
    expect(res.status).toBe(422);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual(HOOK_FAILED_BODY);
    expect(text).not.toContain("broken");
    expect(text).not.toContain("bug while reading");
    const line = app.logs().find((l) => l.msg === "policy failed") as { err: { stack: string } } | undefined;
    expect(line).toMatchObject({
      level: 50,
      hook: "registration-after",
      requestId: "req-123",
      policy: "broken",
      builtIn: false,
      failMode: "closed",
      status: 422,
      failure: "policy broken on registration-after threw: bug while reading +49******5678 for j***@example.com",
      // The thrown error's own type (pino would write "Object" for an `err` with a message).
      err: { type: "Error" },
    });
    expect(line?.err.stack).toContain("Error: bug while reading +49******5678 for j***@example.com");
    expect(app.logs().find((l) => l.msg === "hook call")).toMatchObject({
      requestId: "req-123",
      decision: "failed",
      status: 422,
      policy: "broken",
      messages: ["HOOK_FAILED"],
      changes: [],
    });
    expect(app.logs().some((l) => l.msg === "internal error")).toBe(false);
    expect(app.rawLogs()).not.toContain("+4917612345678");
    expect(app.rawLogs()).not.toContain("jane@example.com");

    // Without Kratos's request id, both lines carry the one the service made up, so they go together.
    await app.call("registration-after", national());
    const failed = app.logs().filter((l) => l.msg === "policy failed");
    const calls = app.logs().filter((l) => l.msg === "hook call");
    expect(failed[1]?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(failed[1]?.requestId).toBe(calls[1]?.requestId);
  });

  it("fail-open: a policy that throws after one that patched answers that patch, never the failing one's", async () => {
    const router: Policy = {
      name: "router",
      hooks: new Set(["registration-after"]),
      decide: () => ({ kind: "patch", identity: { schemaId: "phone" } }),
    };
    const broken: Policy = {
      name: "broken",
      hooks: new Set(["registration-after"]),
      decide: () => {
        throw new Error("bug");
      },
    };
    const app = createTestApp({ config: { failMode: "open" }, policies: [router, broken] });
    const res = await app.call("registration-after", national());
    expect(res.status).toBe(200);
    expect(await bodyOf(res)).toEqual({ identity: { schema_id: "phone" } });
    expect(app.logs().find((l) => l.msg === "policy failed")).toMatchObject({ policy: "broken", failMode: "open", status: 200 });
    expect(app.logs().find((l) => l.msg === "hook call")).toMatchObject({
      decision: "failed",
      status: 200,
      policy: "broken",
      changes: ["schema_id"],
    });
  });

  it("a built-in policy's failure is refused even fail-open: 422 HOOK_FAILED, logged as closed", async () => {
    const ours = builtIn<Policy>({
      name: "normalizePhone",
      hooks: new Set(["registration-after"]),
      decide: () => {
        throw new Error("bug in kratos-hooks");
      },
    });
    const app = createTestApp({ config: { failMode: "open" }, policies: [ours] });
    const res = await app.call("registration-after", national());
    expect(res.status).toBe(422);
    expect(await bodyOf(res)).toEqual(HOOK_FAILED_BODY);
    expect(app.logs().find((l) => l.msg === "policy failed")).toMatchObject({
      policy: "normalizePhone",
      builtIn: true,
      failMode: "closed",
      status: 422,
    });
  });

  it("a policy's own failMode comes before the configuration's: a guard stays closed when the service is open, a tag may fail open when it is closed", async () => {
    const down = (name: string, failMode: "open" | "closed") =>
      definePolicy({
        name,
        hooks: ["registration-after"],
        failMode,
        decide: async () => {
          throw new TypeError("fetch failed");
        },
      });
    const open = createTestApp({ config: { failMode: "open" }, policies: [down("invites", "closed")] });
    const guarded = await open.call("registration-after", national());
    expect(guarded.status).toBe(422);
    expect(await bodyOf(guarded)).toEqual(HOOK_FAILED_BODY);
    expect(open.logs().find((l) => l.msg === "policy failed")).toMatchObject({ policy: "invites", failMode: "closed", status: 422 });
    const closed = createTestApp({ config: { failMode: "closed" }, policies: [down("tag", "open")] });
    const tagged = await closed.call("registration-after", national());
    expect(tagged.status).toBe(204);
    expect(closed.logs().find((l) => l.msg === "policy failed")).toMatchObject({ policy: "tag", failMode: "open", status: 204 });
    expect(() =>
      definePolicy({ name: "x", hooks: ["login-after"], failMode: "sometimes" as never, decide: () => ({ kind: "continue" }) }),
    ).toThrow('definePolicy(x): failMode: expected "open" or "closed", found "sometimes"');
  });

  it("a refusal whose message is broken is still a refusal fail-open: 422 HOOK_FAILED, never an acceptance", async () => {
    const guard: Policy = {
      name: "guard",
      hooks: new Set(["registration-after"]),
      decide: () => ({
        kind: "deny",
        messages: [{ key: "INVITE_REQUIRED", id: 4190001, text: "x".repeat(5000), pointer: "#/traits/email", context: {} }],
      }),
    };
    const app = createTestApp({ config: { failMode: "open" }, policies: [guard] });
    const res = await app.call("registration-after", national());
    expect(res.status).toBe(422);
    expect(await bodyOf(res)).toEqual(HOOK_FAILED_BODY);
    expect(app.logs().find((l) => l.msg === "policy failed")).toMatchObject({ policy: "guard", failMode: "closed" });
  });

  it.each([
    ["a BigInt in a patch (a database row copied into metadata)", { kind: "patch", identity: { metadataPublic: { id: 10n } } }],
    [
      "a cycle in a denial's context",
      (() => {
        const context: Record<string, unknown> = {};
        context.self = context;
        return { kind: "deny", messages: [{ key: "PHONE_INVALID", pointer: "#/traits/phone", context }] };
      })(),
    ],
  ])("%s is a policy failure answered by failMode, never a 500", async (_name, decision) => {
    const odd: Policy = { name: "odd", hooks: new Set(["registration-after"]), decide: () => decision as never };
    const app = createTestApp({ policies: [odd] });
    const res = await app.call("registration-after", national());
    expect(res.status).toBe(422);
    expect(await bodyOf(res)).toEqual(HOOK_FAILED_BODY);
    expect(app.logs().find((l) => l.msg === "policy failed")).toMatchObject({ policy: "odd" });
    expect(app.logs().some((l) => l.msg === "internal error")).toBe(false);
  });

  it("a patch on login-after (which Kratos never persists) is a policy failure: 422 HOOK_FAILED fail-closed, 204 fail-open, never an identity", async () => {
    const patcher: Policy = {
      name: "patcher",
      hooks: new Set(["login-after"]),
      decide: () => ({ kind: "patch", identity: { schemaId: "other" } }),
    };
    const closed = createTestApp({ policies: [patcher] });
    const refused = await closed.call("login-after", loadFixture("login-after.password"));
    expect(refused.status).toBe(422);
    expect(await bodyOf(refused)).toEqual(HOOK_FAILED_BODY);
    expect(closed.logs().find((l) => l.msg === "policy failed")).toMatchObject({
      policy: "patcher",
      failure: "policy patcher on login-after: patched the identity on login-after, where Kratos does not save a change",
    });
    const open = createTestApp({ config: { failMode: "open" }, policies: [patcher] });
    const goesOn = await open.call("login-after", loadFixture("login-after.password"));
    expect(goesOn.status).toBe(204);
    expect(await goesOn.text()).toBe("");
  });
});

describe("one log line per hook call", () => {
  it("names the subject, masked, from the configured fields, nested paths included", async () => {
    const app = createTestApp({
      config: {
        normalizePhone: { fields: ["contact.mobile"] },
        denyRules: { emailTraits: ["work.email", "email"] },
        routeSchema: { enabled: false },
      },
    });
    await app.call("registration-after", registration({ email: "jane@example.com", contact: { mobile: "+49 176 12345678" } }));
    await app.call("registration-after", registration({ work: { email: "" }, email: "sam@example.org" }));
    const subjects = app
      .logs()
      .filter((l) => l.msg === "hook call")
      .map((l) => l.subject);
    expect(subjects).toEqual([{ phone: "+49******5678", email: "j***@example.com" }, { email: "s***@example.org" }]);
    expect(app.rawLogs()).not.toContain("12345678");
    expect(app.rawLogs()).not.toContain("jane@");
  });

  it("names hook, request id, decision, policy, message keys and duration", async () => {
    const app = createTestApp();
    await app.call("registration-after", loadFixture("registration-after.phone-invalid"), {
      headers: { "ory-webhook-request-id": "abc-1" },
    });
    await app.call("registration-after", national());
    const lines = app.logs().filter((l) => l.msg === "hook call");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      hook: "registration-after",
      requestId: "abc-1",
      decision: "deny",
      status: 422,
      policy: "normalizePhone",
      messages: ["PHONE_INVALID"],
      durationMs: expect.any(Number),
    });
    expect(lines[1]).toMatchObject({ decision: "patch", policy: "normalizePhone,routeSchema", changes: ["schema_id", "traits"] });
    expect(lines[1]?.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
