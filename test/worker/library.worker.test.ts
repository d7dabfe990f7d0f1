// The Worker entry a user builds on, inside workerd: createWorker (kratos-hooks/worker) with a
// policy of its own that reads a binding, and a gateway rule in front of a real upstream on
// loopback that answers with the request it received (test/worker/global-setup.ts).
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import v26Settings from "../../kratos/examples/settings-after.profile-v26-session.json" with { type: "json" };
import {
  builtInPolicies,
  definePolicy,
  type GatewayRule,
  kratosErrorResponse,
  patchExternalId,
  patchMetadataPublic,
  type SessionView,
} from "../../src/index.js";
import { createWorker, type Env } from "../../src/worker.js";
import { V26_EXAMPLE_SESSION } from "../support/v26-session.js";

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

describe("what Kratos v25.4+ and v26.2 add, inside workerd as on Node", () => {
  it("a policy gets the trigger id and the session; the hook call line carries the trigger id, never a malformed one", async () => {
    const seen: { triggerId: string | undefined; session: SessionView | undefined }[] = [];
    const v25 = createWorker({
      policies: () => [
        definePolicy({
          name: "link",
          hooks: ["settings-after"],
          decide(input, { triggerId }) {
            seen.push({ triggerId, session: input.session });
            return patchExternalId(`run-${triggerId ?? "none"}`);
          },
        }),
      ],
    });
    const call = (trigger: string) =>
      v25.fetch(
        new Request("https://hooks.example.test/hooks/settings-after", {
          method: "POST",
          headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json", "ory-webhook-trigger-id": trigger },
          body: JSON.stringify(v26Settings),
        }),
        env(),
      );
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    const trigger = "6f1c2b8e-3d4a-4f5b-9c7d-8e9fa0b1c2d3";
    try {
      expect(await (await call(trigger)).json()).toEqual({ identity: { external_id: `run-${trigger}` } });
      expect(await (await call("bad.trigger.id")).json()).toEqual({ identity: { external_id: "run-none" } });
    } finally {
      spy.mockRestore();
    }
    expect(seen.map((s) => s.triggerId)).toEqual([trigger, undefined]);
    expect(seen[0]?.session).toEqual(V26_EXAMPLE_SESSION);
    const calls = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === "hook call");
    expect(calls.map((line) => line.triggerId)).toEqual([trigger, undefined]);
    expect(lines.join("\n")).not.toContain("bad.trigger.id");
  });
});
