// One table of HTTP cases that both runtimes answer identically: on Node through `app.request()`
// (test/http/shared-cases.test.ts), inside workerd through the Worker's own entry
// (test/worker/shared-cases.worker.test.ts) and against `wrangler dev`
// (test/worker/wrangler-dev.test.ts). Nothing here may import node:*.
import { expect } from "vitest";
import loginAfterBlocked from "../../kratos/examples/login-after.blocked-account.json" with { type: "json" };
import loginAfterPassword from "../../kratos/examples/login-after.password.json" with { type: "json" };
import loginBeforeBrowser from "../../kratos/examples/login-before.browser.json" with { type: "json" };
import disposableEmail from "../../kratos/examples/registration-after.disposable-email.json" with { type: "json" };
import passwordEmail from "../../kratos/examples/registration-after.password-email.json" with { type: "json" };
import phoneNational from "../../kratos/examples/registration-after.password-phone-national.json" with { type: "json" };
import phoneInvalid from "../../kratos/examples/registration-after.phone-invalid.json" with { type: "json" };
import registrationBeforeApi from "../../kratos/examples/registration-before.api-script.json" with { type: "json" };
import registrationBeforeBrowser from "../../kratos/examples/registration-before.browser.json" with { type: "json" };
import settingsChanged from "../../kratos/examples/settings-after.profile-phone-changed.json" with { type: "json" };
import settingsUnchanged from "../../kratos/examples/settings-after.profile-unchanged.json" with { type: "json" };
import { isHookId } from "../../src/core/hooks.js";
import { toE164 } from "../../src/core/phone.js";

/** The key both runtimes accept in these cases (Node: `apiKeys`; Worker: the HOOKS_API_KEYS binding). */
export const SHARED_KEY = "shared-key-0123456789abcdef";

const WRONG_KEY = "wrong-key-0123456789abcdef";

/** The configuration both runtimes run these cases with (Worker: the HOOKS_CONFIG binding). */
export const SHARED_CONFIG = {
  denyRules: {
    denyDomains: ["blocked.example"],
    login: { metadataPublic: [{ key: "blocked", equals: true }] },
    request: { denyUserAgents: ["^python-requests/"] },
  },
};

export interface HookCase {
  name: string;
  method?: string;
  path: string;
  /** Sent as the Authorization header; defaults to the shared key as a Bearer token. */
  authorization?: string | null;
  headers?: Record<string, string>;
  /** A JSON value (serialized), a raw string, or a body of `bytes` bytes. */
  body?: unknown;
  rawBody?: string;
  bytes?: number;
  expect: { status: number; json?: unknown; headers?: Record<string, string> };
}

type Json = Record<string, unknown> & { identity: Record<string, unknown> };

const withTraits = (fixture: unknown, traits: Record<string, unknown>): Json => {
  const body = structuredClone(fixture) as Json;
  body.identity = { ...body.identity, traits };
  return body;
};

const denied = (pointer: string, id: number, text: string, context: Record<string, unknown>) => ({
  messages: [{ instance_ptr: pointer, messages: [{ id, text, type: "error", context }] }],
});

const DISPOSABLE_TEXT = "Disposable email addresses cannot be used. Enter an address you will keep.";

export const CASES: HookCase[] = [
  {
    name: "health answers without auth",
    method: "GET",
    path: "/health",
    authorization: null,
    expect: { status: 200, json: { status: "ok" } },
  },
  {
    name: "auth: no credentials are refused before the body is read",
    path: "/hooks/registration-after",
    authorization: null,
    body: passwordEmail,
    expect: { status: 401, headers: { "www-authenticate": 'Bearer realm="kratos-hooks", Basic realm="kratos-hooks"' } },
  },
  {
    name: "auth: a wrong key is refused",
    path: "/hooks/registration-after",
    authorization: `Bearer ${WRONG_KEY}`,
    body: passwordEmail,
    expect: { status: 401 },
  },
  {
    name: "auth: basic auth with the key as password is accepted",
    path: "/hooks/registration-before",
    authorization: `Basic ${btoa(`kratos:${SHARED_KEY}`)}`,
    body: registrationBeforeBrowser,
    expect: { status: 204 },
  },
  {
    name: "registration-before: a browser passes",
    path: "/hooks/registration-before",
    body: registrationBeforeBrowser,
    expect: { status: 204 },
  },
  {
    name: "registration-before: a denied client gets a global message",
    path: "/hooks/registration-before",
    body: registrationBeforeApi,
    expect: {
      status: 422,
      json: denied("#/", 4100202, "This request cannot be processed. Try again from a supported browser or app.", {
        reason: "user_agent_denied",
      }),
    },
  },
  { name: "login-before: a browser passes", path: "/hooks/login-before", body: loginBeforeBrowser, expect: { status: 204 } },
  { name: "login-after: an ordinary login passes", path: "/hooks/login-after", body: loginAfterPassword, expect: { status: 204 } },
  {
    name: "login-after: a flagged account is refused globally",
    path: "/hooks/login-after",
    body: loginAfterBlocked,
    expect: {
      status: 422,
      json: denied("#/", 4100201, "Signing in to this account is not possible. Contact support if you think this is a mistake.", {
        reason: "metadata_flag",
        key: "blocked",
      }),
    },
  },
  {
    name: "registration-after: a national phone is normalized and routed (patch)",
    path: "/hooks/registration-after",
    body: phoneNational,
    expect: { status: 200, json: { identity: { schema_id: "phone", traits: { phone: "+4917612345678" } } } },
  },
  {
    name: "registration-after: an email sign-up is routed to the email schema",
    path: "/hooks/registration-after",
    body: passwordEmail,
    expect: { status: 200, json: { identity: { schema_id: "email" } } },
  },
  {
    name: "registration-after: a routed identity is validated against its target schema (JSON Schema in this runtime)",
    path: "/hooks/registration-after",
    body: withTraits(passwordEmail, { email: `${"a".repeat(320)}@example.com` }),
    expect: {
      status: 422,
      json: denied("#/traits/email", 4100302, "The details you entered do not fit this account type. Check the highlighted fields.", {
        reason: "schema_mismatch",
        schema_id: "email",
        keyword: "maxLength",
        detail: "String is too long (332 > 320).",
      }),
    },
  },
  {
    name: "registration-after: an invalid phone is refused on its field",
    path: "/hooks/registration-after",
    body: phoneInvalid,
    expect: {
      status: 422,
      json: { messages: [{ instance_ptr: "#/traits/phone", messages: [expect.objectContaining({ id: 4100001, type: "error" })] }] },
    },
  },
  {
    name: "registration-after: a disposable domain is refused on the email field",
    path: "/hooks/registration-after",
    body: disposableEmail,
    expect: {
      status: 422,
      json: denied("#/traits/email", 4100101, DISPOSABLE_TEXT, { reason: "disposable_domain", domain: "mailinator.com" }),
    },
  },
  {
    name: "registration-after: a denied domain is refused",
    path: "/hooks/registration-after",
    body: withTraits(passwordEmail, { email: "eve@mail.blocked.example" }),
    expect: {
      status: 422,
      json: denied("#/traits/email", 4100102, "Email addresses at this domain cannot be used here.", {
        reason: "domain_denied",
        domain: "mail.blocked.example",
      }),
    },
  },
  {
    name: "settings-after: a changed phone is normalized (patch)",
    path: "/hooks/settings-after",
    body: settingsChanged,
    expect: { status: 200, json: { identity: { traits: { phone: "+4917612345678" } } } },
  },
  { name: "settings-after: nothing to change", path: "/hooks/settings-after", body: settingsUnchanged, expect: { status: 204 } },
  {
    name: "malformed: not JSON",
    path: "/hooks/registration-after",
    rawBody: '{"flow": ',
    expect: { status: 400, json: { error: { code: "invalid_json", message: "body is not valid UTF-8 JSON", path: null } } },
  },
  {
    name: "malformed: traits of the wrong type, named by path and type only",
    path: "/hooks/settings-after",
    body: withTraits(settingsChanged, "+4917612345678" as unknown as Record<string, unknown>),
    expect: {
      status: 400,
      json: { error: { code: "invalid_payload", message: "identity.traits: expected object, found a string", path: "identity.traits" } },
    },
  },
  {
    name: "malformed: a form body instead of JSON",
    path: "/hooks/login-after",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    rawBody: "a=b",
    expect: { status: 400, json: { error: expect.objectContaining({ code: "unsupported_content_type" }) } },
  },
  {
    name: "oversize: a body over 1 MiB is refused",
    path: "/hooks/registration-after",
    bytes: 1024 * 1024 + 1,
    expect: { status: 413, json: { error: expect.objectContaining({ code: "payload_too_large" }) } },
  },
  {
    name: "an unknown hook is 404",
    path: "/hooks/verification-after",
    body: {},
    expect: { status: 404, json: { error: { code: "not_found", message: 'unknown hook "verification-after"', path: null } } },
  },
  {
    name: "GET on a hook is 405 with Allow",
    method: "GET",
    path: "/hooks/login-after",
    expect: { status: 405, headers: { allow: "POST" } },
  },
];

/** Sends a case through `fetch` (either runtime's) and checks the answer. */
export async function checkCase(c: HookCase, fetch: (request: Request) => Promise<Response>): Promise<void> {
  const res = await fetch(toRequest(c));
  const text = await res.text();
  expect({ status: res.status, ...(c.expect.json !== undefined && { json: text === "" ? undefined : JSON.parse(text) }) }).toEqual({
    status: c.expect.status,
    ...(c.expect.json !== undefined && { json: c.expect.json }),
  });
  if (c.expect.status === 204) expect(text).toBe("");
  for (const [name, value] of Object.entries(c.expect.headers ?? {})) expect(res.headers.get(name)).toBe(value);
}

/** Builds the request a case describes. */
export function toRequest(c: HookCase): Request {
  const headers = new Headers(c.headers);
  const authorization = c.authorization === undefined ? `Bearer ${SHARED_KEY}` : c.authorization;
  if (authorization !== null) headers.set("authorization", authorization);
  if (!headers.has("content-type") && c.method !== "GET") headers.set("content-type", "application/json");
  let body: string | undefined;
  if (c.bytes !== undefined) body = `{"pad":"${"x".repeat(c.bytes - 10)}"}`;
  else if (c.rawBody !== undefined) body = c.rawBody;
  else if (c.body !== undefined) body = JSON.stringify(c.body);
  return new Request(`http://kratos-hooks.test${c.path}`, { method: c.method ?? "POST", headers, body });
}

interface CtxLike {
  identity?: {
    traits?: Record<string, unknown>;
    verifiable_addresses?: { value: string }[];
    recovery_addresses?: { value: string }[];
  };
  request_cookies?: Record<string, unknown>;
  flow?: { ui?: { nodes?: { attributes?: { name?: string; value?: unknown } }[] } };
}

/**
 * Every value in a hook body that must never reach a log in clear: traits (as sent, lower-cased
 * and as E.164), addresses, cookies and the CSRF token.
 */
export function secretsIn(body: unknown): string[] {
  const ctx = (body ?? {}) as CtxLike;
  const identity = ctx.identity ?? {};
  const values = [
    ...Object.values(identity.traits ?? {}),
    ...[...(identity.verifiable_addresses ?? []), ...(identity.recovery_addresses ?? [])].map((a) => a.value),
    ...Object.values(ctx.request_cookies ?? {}),
    ...(ctx.flow?.ui?.nodes ?? []).filter((n) => n.attributes?.name === "csrf_token").map((n) => n.attributes?.value),
  ].filter((v): v is string => typeof v === "string");
  const phones = values.map((v) => toE164(v, "DE")).flatMap((r) => (r.ok ? [r.e164] : []));
  return [...values, ...phones, ...values.map((v) => v.toLowerCase())].filter((v) => v.length >= 6);
}

/**
 * Checks what a runtime logged while answering every case once: JSON lines in pino's shape,
 * one "hook call" line per request to a hook route, and no personal data, cookie or key in clear.
 */
export function checkLogs(output: string): void {
  const lines = output
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const calls = lines.filter((line) => line.msg === "hook call");
  const hookRequests = CASES.filter((c) => (c.method ?? "POST") === "POST" && isHookId(c.path.replace("/hooks/", "")));
  expect(calls).toHaveLength(hookRequests.length);
  for (const line of calls) {
    // A refused key fails every flow while Kratos only says "got no validation errors": warn, not info.
    const level = line.status === 401 ? 40 : 30;
    expect(line).toMatchObject({ level, service: "kratos-hooks", time: expect.any(String), requestId: expect.any(String) });
    // A key that matches none is named by a hash prefix, never in clear (the secrets check below).
    if (line.status === 401 && line.reason === "the key matches none of HOOKS_API_KEYS")
      expect(line.keyId).toMatch(/^sha256:[0-9a-f]{8}…$/);
    expect(Object.keys(line)).toEqual(expect.arrayContaining(["hook", "decision", "status", "durationMs"]));
  }
  expect(calls.some((line) => line.status === 401 && typeof line.keyId === "string")).toBe(true);
  const secrets = new Set([SHARED_KEY, WRONG_KEY, btoa(`kratos:${SHARED_KEY}`), ...CASES.flatMap((c) => secretsIn(c.body))]);
  expect(secrets.size).toBeGreaterThan(10);
  for (const secret of secrets) expect(output, `log output contains ${JSON.stringify(secret)}`).not.toContain(secret);
  expect(output).toContain('"phone":"01******5678"');
}
