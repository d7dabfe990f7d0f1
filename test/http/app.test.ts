import { describe, expect, it } from "vitest";
import type { Policy } from "../../src/core/policy.js";
import { bodyOf, createTestApp, loadFixture, OTHER_KEY, TEST_KEY } from "../helpers.js";

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

  it.each<[string, Record<string, string>, number]>([
    ["Bearer with the key", { authorization: `Bearer ${TEST_KEY}` }, 200],
    ["scheme is case-insensitive", { authorization: `bearer ${TEST_KEY}` }, 200],
    ["Basic with the key as password, any user", { authorization: basic("kratos", TEST_KEY) }, 200],
    ["Basic with an empty user", { authorization: basic("", TEST_KEY) }, 200],
    ["no credentials", {}, 401],
    ["wrong Bearer key", { authorization: "Bearer wrong-key-0123456789" }, 401],
    ["key as Basic user name instead of password", { authorization: basic(TEST_KEY, "x") }, 401],
    ["Basic without a colon", { authorization: `Basic ${Buffer.from(TEST_KEY).toString("base64")}` }, 401],
    ["Basic that is not base64", { authorization: "Basic %%%" }, 401],
    ["a prefix of the key", { authorization: `Bearer ${TEST_KEY.slice(0, -1)}` }, 401],
    ["the key with a suffix", { authorization: `Bearer ${TEST_KEY}x` }, 401],
    ["raw key without a scheme", { authorization: TEST_KEY }, 401],
    ["empty Bearer", { authorization: "Bearer " }, 401],
  ])("%s → %i", async (_title, headers, status) => {
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

describe("time budget and our own bugs", () => {
  const slow: Policy = {
    name: "slow",
    hooks: new Set(["registration-after"]),
    decide: () => new Promise((resolve) => setTimeout(() => resolve({ kind: "continue" }), 200)),
  };

  it("fail-closed (default): a global 422 when the budget is exceeded", async () => {
    const app = createTestApp({ config: { budgetMs: 20 }, policies: [slow] });
    const res = await app.call("registration-after", national());
    expect(res.status).toBe(422);
    expect((await bodyOf(res)).messages).toEqual([
      {
        instance_ptr: "#/",
        messages: [{ id: 4100901, text: expect.any(String), type: "error", context: { reason: "timeout" } }],
      },
    ]);
    expect(app.logs().some((l) => l.msg === "hook exceeded its time budget")).toBe(true);
  });

  it("fail-open: 204 when the budget is exceeded", async () => {
    const app = createTestApp({ config: { budgetMs: 20, failMode: "open" }, policies: [slow] });
    const res = await app.call("registration-after", national());
    expect(res.status).toBe(204);
    expect(app.logs().find((l) => l.msg === "hook call")).toMatchObject({ decision: "timeout", status: 204 });
  });

  it("a policy that throws is a bare 500 that reveals nothing, logged with the request id", async () => {
    const broken: Policy = {
      name: "broken",
      hooks: new Set(["registration-after"]),
      decide: () => {
        throw new Error("bug while reading +4917612345678 for jane@example.com");
      },
    };
    const app = createTestApp({ policies: [broken] });
    const res = await app.call("registration-after", national(), { headers: { "ory-webhook-request-id": "req-123" } });
    expect(res.status).toBe(500);
    expect(await bodyOf(res)).toEqual({ error: { code: "internal_error", message: "internal error (request req-123)", path: null } });
    const line = app.logs().find((l) => l.msg === "internal error");
    expect(line).toMatchObject({ requestId: "req-123" });
    expect(app.rawLogs()).not.toContain("+4917612345678");
    expect(app.rawLogs()).not.toContain("jane@example.com");

    const anonymous = await app.call("registration-after", national());
    const id = /request ([0-9a-f-]{36})/.exec((await bodyOf(anonymous)).error.message)?.[1];
    expect(
      app
        .logs()
        .filter((l) => l.msg === "internal error")
        .map((l) => l.requestId),
    ).toContain(id);
  });

  it("a patch on login-after (which Kratos never persists) is a policy bug: 500, never an identity", async () => {
    const patcher: Policy = {
      name: "patcher",
      hooks: new Set(["login-after"]),
      decide: () => ({ kind: "patch", identity: { schemaId: "other" } }),
    };
    const res = await createTestApp({ policies: [patcher] }).call("login-after", loadFixture("login-after.password"));
    expect(res.status).toBe(500);
  });
});

describe("one log line per hook call", () => {
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
