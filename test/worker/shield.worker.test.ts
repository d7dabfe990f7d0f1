import { env as bindings } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import worker, { type Env } from "../../src/adapters/worker.js";

// The shield in the Worker's gateway, in workerd, its counters in the Worker's own ShieldCounters
// Durable Objects (bound as SHIELD in vitest.config.ts), in front of the echo upstream, which
// answers the password "wrong" as Kratos answers a failed login (test/worker/echo-upstream.ts).
const UPSTREAM = inject("echoUpstream");

function env(config: Record<string, unknown>, extra: Partial<Env> = {}): Env {
  return {
    HOOKS_API_KEYS: "worker-key-0123456789abcdef",
    HOOKS_CONFIG: JSON.stringify(config),
    GATEWAY_KRATOS_URL: UPSTREAM,
    GATEWAY_HOSTNAMES: "auth.example.test",
    SHIELD: bindings.SHIELD,
    GATEWAY_SHIELD_SECRET: "a-worker-shield-secret-0123",
    ...extra,
  };
}

function login(identifier: string, password: string, client = "203.0.113.7"): Request {
  return new Request("https://auth.example.test/self-service/login?flow=f1", {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": client },
    body: JSON.stringify({ method: "password", identifier, password }),
  });
}

async function firstMessageId(res: Response): Promise<number | undefined> {
  const body = (await res.json()) as { ui?: { messages?: { id: number }[] } };
  return body.ui?.messages?.[0]?.id;
}

describe("the shield in the Worker (workerd, Durable Objects)", () => {
  it("counts one number however it is typed, locks it, and the lock is in the Durable Objects, not the isolate", async () => {
    const config = { normalizePhone: { defaultRegion: "DE" }, gateway: { shield: { login: { delayAfter: 3, lockAfter: 3 } } } };
    for (const spelling of ["0176 1234 5670", "+49 176 1234 5670", "+4917612345670"]) {
      expect(await firstMessageId(await worker.fetch(login(spelling, "wrong"), env(config)))).toBe(4000006);
    }
    expect(await firstMessageId(await worker.fetch(login("0176 12345670", "right"), env(config)))).toBe(4100402);
    // Another configuration builds a new app with a new shield: only the Durable Objects remember.
    const again = await worker.fetch(login("+4917612345670", "right"), env(config, { LOG_LEVEL: "warn" }));
    expect(await firstMessageId(again)).toBe(4100402);
    // Another number from the same client is not locked.
    const other = await worker.fetch(login("+4917612345671", "right"), env(config));
    expect(other.status).toBe(200);
  });

  it("refuses to build the gateway with SHIELD bound but no secret: 503 until it is set", async () => {
    const res = await worker.fetch(login("+4917612345672", "right"), env({}, { GATEWAY_SHIELD_SECRET: undefined }));
    expect(res.status).toBe(503);
  });
});
