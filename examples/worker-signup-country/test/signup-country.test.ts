import { reset } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { createConsoleLogger, type HookInput } from "kratos-hooks";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { signupCountry } from "../src/signup-country.js";

// Inside workerd: each request goes through the Worker's default export (src/index.ts) with the
// bindings from vitest.config.ts, and SIGNUP_COUNTS is Miniflare's KV, read back from `env`.

// The Worker logs one JSON line per call; keep the test output quiet.
vi.spyOn(console, "log").mockImplementation(() => {});

// Every test starts with an empty KV namespace.
beforeEach(() => reset());

type Identity = { schema_id: string; traits: Record<string, unknown>; metadata_public: Record<string, unknown> | null };

/** The body the shipped kratos/hooks/registration-after.jsonnet makes Kratos send. */
function registration(identity: Identity, transientPayload?: Record<string, unknown>) {
  return {
    flow: {
      id: "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
      type: "browser",
      ...(transientPayload && { transient_payload: transientPayload }),
    },
    identity,
    request_headers: { "Accept-Language": ["de-DE,de;q=0.9"], "User-Agent": ["Mozilla/5.0"] },
    request_method: "POST",
    request_url: "https://auth.example.com/self-service/registration?flow=5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
  };
}

function registrationAfter(body: unknown, key: string = env.HOOKS_API_KEYS): Promise<Response> {
  return exports.default.fetch("https://hooks.example.test/hooks/registration-after", {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Every counter in KV, as `{ "country:DE": "2" }`. */
async function counters(): Promise<Record<string, string | null>> {
  const { keys } = await env.SIGNUP_COUNTS.list();
  const entries = await Promise.all(keys.map(async ({ name }) => [name, await env.SIGNUP_COUNTS.get(name)] as const));
  return Object.fromEntries(entries);
}

describe("signup-country on registration-after", () => {
  it("normalizes a national number, tags its country, keeps other metadata and counts 1 then 2", async () => {
    expect(await counters()).toEqual({});

    // What Kratos receives is every change of every policy: normalizePhone's E.164, routeSchema's
    // move to the "phone" schema (its default rule for a phone-only sign-up) and signup-country's tag.
    const first = await registrationAfter(
      registration({ schema_id: "default", traits: { phone: "0176 12345678" }, metadata_public: { plan: "free" } }, { phone_region: "DE" }),
    );
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({
      identity: {
        schema_id: "phone",
        traits: { phone: "+4917612345678" },
        metadata_public: { plan: "free", signup_country: "DE" },
      },
    });
    expect(await counters()).toEqual({ "country:DE": "1" });

    // Already in E.164, already on the phone schema, no metadata yet: only metadata_public changes,
    // so only it is sent back.
    const second = await registrationAfter(
      registration({ schema_id: "phone", traits: { phone: "+4915112345678" }, metadata_public: null }),
    );
    expect(second.status).toBe(200);
    expect(await second.text()).toBe('{"identity":{"metadata_public":{"signup_country":"DE"}}}');
    expect(await counters()).toEqual({ "country:DE": "2" });
  });

  it("counts each country under its own key", async () => {
    await env.SIGNUP_COUNTS.put("country:DE", "41");
    const res = await registrationAfter(
      registration({ schema_id: "phone", traits: { phone: "+33 6 12 34 56 78" }, metadata_public: null }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      identity: { traits: { phone: "+33612345678" }, metadata_public: { signup_country: "FR" } },
    });
    expect(await counters()).toEqual({ "country:DE": "41", "country:FR": "1" });
  });

  it("an invalid number is refused by the built-in normalizePhone (422) and not counted", async () => {
    await env.SIGNUP_COUNTS.put("country:DE", "7");
    const res = await registrationAfter(registration({ schema_id: "phone", traits: { phone: "0176 1" }, metadata_public: null }));
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      messages: [
        {
          instance_ptr: "#/traits/phone",
          messages: [
            {
              id: 4100001,
              text: "This phone number is not valid. Check the digits and the country code.",
              type: "error",
              context: expect.any(Object),
            },
          ],
        },
      ],
    });
    expect(await counters()).toEqual({ "country:DE": "7" });
  });

  it("an identity without a phone goes on unchanged (204) and is not counted", async () => {
    await env.SIGNUP_COUNTS.put("country:DE", "7");
    const res = await registrationAfter(
      registration({ schema_id: "email", traits: { email: "someone@example.com" }, metadata_public: { plan: "free" } }),
    );
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(await counters()).toEqual({ "country:DE": "7" });
  });

  it("a wrong key is refused (401) before any policy runs", async () => {
    await env.SIGNUP_COUNTS.put("country:DE", "7");
    const res = await registrationAfter(
      registration({ schema_id: "phone", traits: { phone: "+4917612345678" }, metadata_public: null }),
      "not-the-right-key-0123456789",
    );
    expect(res.status).toBe(401);
    expect(await counters()).toEqual({ "country:DE": "7" });
  });

  it("once the time budget is spent (context.signal aborted), nothing is written", async () => {
    await env.SIGNUP_COUNTS.put("country:DE", "7");
    const input: HookInput = {
      hook: "registration-after",
      transientPayload: undefined,
      requestedSchemaId: undefined,
      headers: new Map(),
      identity: { schemaId: "phone", traits: { phone: "+4917612345678" }, metadataPublic: null },
    };
    const context = { signal: AbortSignal.abort(new DOMException("budget spent", "TimeoutError")), logger: createConsoleLogger("error") };
    await expect(signupCountry(env.SIGNUP_COUNTS).decide(input, context)).rejects.toThrow("budget spent");
    expect(await counters()).toEqual({ "country:DE": "7" });
  });
});
