import { afterEach, describe, expect, inject, it, vi } from "vitest";
import worker, { type Env } from "../../src/adapters/worker.js";
import { createConsoleLogger, createGateway, parseConfig } from "../../src/index.js";
import type { Echo } from "./echo-upstream.js";

// The Worker's entry in workerd with the gateway switched on by its bindings, in front of a real
// upstream on loopback that answers with the request it received (test/worker/global-setup.ts).
const KEY = "worker-key-0123456789abcdef";
const UPSTREAM = inject("echoUpstream");

function env(config: unknown = {}, extra: Partial<Env> = {}): Env {
  return {
    HOOKS_API_KEYS: KEY,
    HOOKS_CONFIG: JSON.stringify(config),
    GATEWAY_KRATOS_URL: UPSTREAM,
    GATEWAY_HOSTNAMES: "auth.example.test",
    ...extra,
  };
}

function request(url: string, init: RequestInit<IncomingRequestCfProperties> = {}): Request<unknown, IncomingRequestCfProperties> {
  return new Request(url, { ...init, headers: { "cf-connecting-ip": "203.0.113.7", ...Object.fromEntries(new Headers(init.headers)) } });
}

async function echoOf(res: Response): Promise<Echo & { text: string }> {
  const echo = (await res.json()) as Echo;
  return { ...echo, text: new TextDecoder().decode(Uint8Array.from(atob(echo.body), (c) => c.charCodeAt(0))) };
}

let logged: string[] = [];
vi.spyOn(console, "log").mockImplementation((line: unknown) => {
  logged.push(String(line));
});
afterEach(() => {
  logged = [];
});

describe("the gateway in the Worker (workerd)", () => {
  it("answers on GATEWAY_HOSTNAMES; every other hostname still gets the hooks", async () => {
    const res = await worker.fetch(request("https://auth.example.test/health"), env());
    expect((await echoOf(res)).url).toBe("/health");
    const hooks = await worker.fetch(request("https://hooks.example.test/health"), env());
    expect(await hooks.json()).toEqual({ status: "ok" });
  });

  it("rewrites a login submission, forwards Cloudflare's client address, returns both cookies", async () => {
    const body = '{"method":"password","identifier":"0176 1234 5678","password":"p","transient_payload":{"phone_region":"DE"}}';
    const res = await worker.fetch(
      request("https://auth.example.test/self-service/login?flow=f1", {
        method: "POST",
        headers: { "content-type": "application/json", cookie: "csrf_token_x=c", "x-forwarded-for": "198.51.100.1" },
        body,
      }),
      env(),
    );
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()).toEqual(["csrf_token_echo=one; Path=/; HttpOnly", "ory_kratos_session=two; Path=/; HttpOnly"]);
    const echo = await echoOf(res);
    expect(echo).toMatchObject({ method: "POST", url: "/self-service/login?flow=f1" });
    expect(echo.text).toBe(body.replace("0176 1234 5678", "+4917612345678"));
    expect(echo.headers).toMatchObject({
      "content-type": "application/json",
      cookie: "csrf_token_x=c",
      "x-forwarded-for": "203.0.113.7",
      "true-client-ip": "203.0.113.7",
      "x-forwarded-host": "auth.example.test",
      "x-forwarded-proto": "https",
    });
    const line = logged.map((l) => JSON.parse(l)).find((l) => l.msg === "gateway request");
    expect(line).toMatchObject({ method: "POST", route: "/self-service/login", status: 200, rewritten: ["identifier"] });
    expect(logged.join("\n")).not.toMatch(/0176|4917612345678|csrf_token_x/);
  });

  it("request.cf.country reads a national number only when gateway.regionFromClientCountry is on", async () => {
    const submit = (config: unknown) =>
      worker.fetch(
        request("https://auth.example.test/self-service/login?flow=f", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: "identifier=01+23+45+67+89&method=password",
          cf: { country: "FR" } as IncomingRequestCfProperties,
        }),
        env(config),
      );
    expect((await echoOf(await submit({}))).text).toBe("identifier=01+23+45+67+89&method=password");
    expect((await echoOf(await submit({ gateway: { regionFromClientCountry: true } }))).text).toBe(
      "identifier=%2B33123456789&method=password",
    );
  });

  it("times out with 504 in Kratos's shape", async () => {
    const res = await worker.fetch(request("https://auth.example.test/__hang"), env({ gateway: { upstreamTimeoutMs: 1000 } }));
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({ error: { code: 504, status: "Gateway Timeout", message: "Kratos did not answer within 1000 ms." } });
  });

  it("a bad gateway binding makes the Worker refuse to serve (503), with the reason in the log", async () => {
    for (const [extra, reason] of [
      [{ GATEWAY_HOSTNAMES: "" }, "GATEWAY_HOSTNAMES: expected the hostnames the gateway answers on"],
      [{ GATEWAY_HOSTNAMES: "127.0.0.1" }, "expected hostnames other than GATEWAY_KRATOS_URL's"],
      [{ GATEWAY_KRATOS_URL: "kratos:4433" }, "GATEWAY_KRATOS_URL: expected Kratos's own public address"],
    ] as const) {
      const res = await worker.fetch(request("https://auth.example.test/health"), env({}, extra));
      expect(res.status).toBe(503);
      expect(logged.join("\n")).toContain(reason);
    }
  });
});

describe("createGateway's default reading of the client, in workerd", () => {
  it("is Cloudflare's: workerd says it is Workers, and CF-Connecting-IP is the client's address", async () => {
    expect(navigator.userAgent).toBe("Cloudflare-Workers");
    const seen: (string | undefined)[] = [];
    const app = createGateway({
      config: parseConfig({}),
      upstream: new URL("http://127.0.0.1:9/"),
      logger: createConsoleLogger("error"),
      rules: [
        async (c) => {
          seen.push(c.get("clientAddress"));
          return c.body(null, 204);
        },
      ],
    });
    const res = await app.request(
      new Request("https://auth.example.test/self-service/login/api", { headers: { "cf-connecting-ip": "203.0.113.7" } }),
    );
    expect(res.status).toBe(204);
    expect(seen).toEqual(["203.0.113.7"]);
  });
});
