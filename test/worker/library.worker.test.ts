// The Worker entry a user builds on, inside workerd: createWorker (kratos-hooks/worker) with a
// policy of its own that reads a binding, and a gateway rule in front of a real upstream on
// loopback that answers with the request it received (test/worker/global-setup.ts).
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { builtInPolicies, definePolicy, type GatewayRule, kratosErrorResponse, patchMetadataPublic } from "../../src/index.js";
import { createWorker, type Env } from "../../src/worker.js";

const KEY = "worker-library-key-0123456789";
const UPSTREAM = inject("echoUpstream");

interface MyEnv extends Env {
  PLAN: string;
  BLOCKED_IPS: string;
}

let builds = 0;
const worker = createWorker<MyEnv>({
  policies: (config, env) => {
    builds += 1;
    return [
      ...builtInPolicies(config),
      definePolicy({
        name: "plan",
        hooks: ["registration-after"],
        decide: (input) => patchMetadataPublic(input, { plan: env.PLAN }),
      }),
    ];
  },
  gatewayRules: (env) => {
    const blocked = new Set(env.BLOCKED_IPS.split(","));
    const rule: GatewayRule = async (c, next) => {
      if (blocked.has(c.get("clientAddress") ?? "")) return kratosErrorResponse(403, "Sign-ups from this network are closed.");
      await next();
    };
    return [rule];
  },
});

const env = (extra: Partial<MyEnv> = {}): MyEnv => ({
  HOOKS_API_KEYS: KEY,
  HOOKS_CONFIG: JSON.stringify({ routeSchema: { enabled: false }, normalizePhone: { defaultRegion: "DE" } }),
  GATEWAY_KRATOS_URL: UPSTREAM,
  GATEWAY_HOSTNAMES: "auth.example.test",
  PLAN: "pro",
  BLOCKED_IPS: "203.0.113.66",
  ...extra,
});

vi.spyOn(console, "log").mockImplementation(() => {});
afterEach(() => {
  builds = 0;
});

const signUp = () =>
  new Request("https://hooks.example.test/hooks/registration-after", {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      flow: { id: "f", type: "api", ui: { nodes: [] } },
      identity: { id: "i", schema_id: "default", traits: { phone: "0176 12345678" }, metadata_public: null },
    }),
  });

describe("createWorker with policies and gateway rules of your own (workerd)", () => {
  it("runs the policy after the built-in ones, with the bindings it was built from, built once per isolate", async () => {
    const first = await worker.fetch(signUp(), env());
    expect(await first.json()).toEqual({ identity: { traits: { phone: "+4917612345678" }, metadata_public: { plan: "pro" } } });
    await worker.fetch(signUp(), env());
    expect(builds).toBe(1);
    // A text binding changes (a new deployment's vars): the app is built again from it.
    expect(await (await worker.fetch(signUp(), env({ PLAN: "free" }))).json()).toMatchObject({
      identity: { metadata_public: { plan: "free" } },
    });
    expect(builds).toBe(2);
  });

  it("answers with the rule before forwarding, and forwards what the rule lets through", async () => {
    const from = (ip: string) =>
      worker.fetch(new Request("https://auth.example.test/self-service/registration/api", { headers: { "cf-connecting-ip": ip } }), env());
    const refused = await from("203.0.113.66");
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: { code: 403, status: "Forbidden", message: "Sign-ups from this network are closed." } });
    const through = await from("198.51.100.1");
    expect(through.status).toBe(200);
    expect(((await through.json()) as { url: string }).url).toBe("/self-service/registration/api");
  });
});
