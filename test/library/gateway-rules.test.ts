// Gateway rules of your own, as a user mounts them: createGateway from the package's main entry,
// in front of a real upstream on loopback (test/support/upstream.ts).

import { bearerAuth } from "hono/bearer-auth";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import { getWorkersConnInfo } from "../../src/gateway/fetch-runtime.js";
import {
  createConsoleLogger,
  createGateway,
  type GatewayRule,
  KratosHTTPException,
  kratosErrorResponse,
  parseConfig,
} from "../../src/index.js";
import { useUpstream } from "../support/upstream.js";

const upstream = useUpstream();

/** The gateway as a Worker runs it (`onWorkers`: Cloudflare's CF-Connecting-IP names the client), or embedded elsewhere. */
function gateway(rules: GatewayRule[], raw: unknown = {}, onWorkers = true) {
  const lines: Record<string, unknown>[] = [];
  const app = createGateway({
    config: parseConfig(raw),
    upstream: new URL(upstream.url),
    logger: createConsoleLogger("info", (line) => lines.push(JSON.parse(line))),
    rules,
    ...(onWorkers && { connInfo: getWorkersConnInfo }),
  });
  return { app, lines };
}

const from = (ip: string, path = "/self-service/login?flow=f", init: RequestInit = {}) =>
  new Request(`https://auth.example.test${path}`, { method: "POST", ...init, headers: { "cf-connecting-ip": ip, ...init.headers } });

/** At most `limit` login submissions per client address (the example's rule, reduced). */
function loginLimit(limit: number): GatewayRule {
  const counts = new Map<string, number>();
  return async (c, next) => {
    if (c.req.method === "POST" && c.req.path === "/self-service/login") {
      const key = c.get("clientAddress") ?? "unknown";
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      if (count > limit)
        return kratosErrorResponse(429, "Too many sign-in attempts. Try again in a minute.", { headers: { "retry-after": "60" } });
    }
    await next();
  };
}

describe("gateway rules of your own", () => {
  it("see the path Kratos routes: a spelling Kratos reads differently is refused before any rule runs", async () => {
    const { app } = gateway([loginLimit(1)]);
    expect((await app.request(from("198.51.100.9"))).status).toBe(200);
    // `//self-service/login` is a login to Kratos v1.3.1: it must not slip past a rule keyed on the path.
    for (const path of ["//self-service/login?flow=f", "/self-service%2Flogin?flow=f", "/self-service/login/?flow=f"]) {
      const res = await app.request(from("198.51.100.9", path));
      expect(res.status, path).toBe(400);
    }
    // A spelling Kratos reads as the login reaches the rule as the login.
    expect((await app.request(from("198.51.100.9", "/self-service/%6cogin?flow=f"))).status).toBe(429);
    expect((await app.request(from("198.51.100.9", "/self-service/x/../login?flow=f"))).status).toBe(429);
    expect(upstream.received).toHaveLength(1);
  });

  it("answer before anything is forwarded, in Kratos's error shape, and are logged as the rule's answer", async () => {
    const { app, lines } = gateway([loginLimit(2)]);
    expect((await app.request(from("198.51.100.1"))).status).toBe(200);
    expect((await app.request(from("198.51.100.1"))).status).toBe(200);
    const refused = await app.request(from("198.51.100.1"));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("60");
    expect(refused.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await refused.json()).toEqual({
      error: { code: 429, status: "Too Many Requests", message: "Too many sign-in attempts. Try again in a minute." },
    });
    expect(upstream.received).toHaveLength(2);
    // Another address, and any other path, still go through.
    expect((await app.request(from("198.51.100.2"))).status).toBe(200);
    expect((await app.request(from("198.51.100.1", "/self-service/registration?flow=f"))).status).toBe(200);
    expect(upstream.received).toHaveLength(4);
    expect(lines.filter((l) => l.msg === "gateway request").map((l) => [l.status, l.answeredBy ?? "kratos"])).toEqual([
      [200, "kratos"],
      [200, "kratos"],
      [429, "rule"],
      [200, "kratos"],
      [200, "kratos"],
    ]);
  });

  it("read the client's address: Cloudflare's CF-Connecting-IP on Workers, or the trusted proxy's last X-Forwarded-For entry; embedded elsewhere, never a CF-Connecting-IP a client sent", async () => {
    const seen: (string | undefined)[] = [];
    const record: GatewayRule = async (c, next) => {
      seen.push(c.get("clientAddress"));
      await next();
    };
    const xff = { "x-forwarded-for": "10.9.9.9, 203.0.113.50" };
    await gateway([record]).app.request(from("198.51.100.7", "/self-service/login?flow=f", { headers: xff }));
    await gateway([record], { gateway: { trustForwardedHeaders: true } }).app.request(
      from("198.51.100.7", "/self-service/login?flow=f", { headers: xff }),
    );
    await gateway([record], {}, false).app.request(from("198.51.100.7", "/self-service/login?flow=f", { headers: xff }));
    // Only Cloudflare's edge vouches for CF-Connecting-IP: embedded elsewhere (here, Node without
    // serve()) the client wrote it, so there is no address (test/worker/ reads it in workerd).
    expect(seen).toEqual(["198.51.100.7", "203.0.113.50", undefined]);
  });

  it("run in the order given, and a rule that throws is the gateway's 500 in Kratos's shape", async () => {
    const order: string[] = [];
    const first: GatewayRule = async (_c, next) => {
      order.push("first");
      await next();
    };
    const broken: GatewayRule = () => {
      order.push("broken");
      throw new Error("rule bug");
    };
    const { app, lines } = gateway([first, broken]);
    const res = await app.request(from("198.51.100.1"));
    expect(order).toEqual(["first", "broken"]);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(500);
    expect(upstream.received).toHaveLength(0);
    expect(lines.some((l) => l.msg === "gateway internal error")).toBe(true);
  });
  it("a rule refuses by throwing KratosHTTPException (or Hono's HTTPException): Kratos's shape, its headers, logged as a refusal", async () => {
    const closed: GatewayRule = async (c, next) => {
      if (c.req.path === "/self-service/registration") {
        throw new KratosHTTPException(403, "Sign-ups are closed for now.", {
          reason: "signups_closed",
          headers: { "retry-after": "3600" },
        });
      }
      if (c.req.path === "/self-service/settings") throw new HTTPException(409, { message: "Try again after your sign-in." });
      await next();
    };
    const { app, lines } = gateway([closed]);
    const refused = await app.request(from("198.51.100.1", "/self-service/registration?flow=f"));
    expect(refused.status).toBe(403);
    expect(refused.headers.get("retry-after")).toBe("3600");
    expect(refused.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await refused.json()).toEqual({
      error: { code: 403, status: "Forbidden", reason: "signups_closed", message: "Sign-ups are closed for now." },
    });
    const hono = await app.request(from("198.51.100.1", "/self-service/settings?flow=f"));
    expect(hono.status).toBe(409);
    expect(await hono.json()).toEqual({ error: { code: 409, status: "Conflict", message: "Try again after your sign-in." } });
    expect(upstream.received).toHaveLength(0);
    expect(lines.filter((l) => l.msg === "gateway rule refused the request").map((l) => [l.status, l.reason])).toEqual([
      [403, "signups_closed"],
      [409, undefined],
    ]);
    expect(lines.some((l) => l.msg === "gateway internal error")).toBe(false);
    // A login goes on to Kratos.
    expect((await app.request(from("198.51.100.1"))).status).toBe(200);
    expect(() => new KratosHTTPException(418 as never, "teapot")).toThrow("status 418 is not one of");
  });

  it("Hono's own middleware as a rule (bearerAuth, csrf): its refusal in Kratos's shape with its headers, never a 500", async () => {
    const { app, lines } = gateway([bearerAuth({ token: "let-me-in-0123456789" }) as GatewayRule]);
    const res = await app.request(from("198.51.100.1"));
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await res.json()).toEqual({ error: { code: 401, status: "Unauthorized", message: "Unauthorized" } });
    expect(upstream.received).toHaveLength(0);
    const allowed = await app.request(
      from("198.51.100.1", "/self-service/login?flow=f", { headers: { authorization: "Bearer let-me-in-0123456789" } }),
    );
    expect(allowed.status).toBe(200);
    const guarded = gateway([csrf({ origin: "https://auth.example.test" }) as GatewayRule]);
    const forged = await guarded.app.request(
      from("198.51.100.1", "/self-service/login?flow=f", {
        headers: { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
        body: "identifier=x",
      }),
    );
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { code: number } }).error.code).toBe(403);
    expect([...lines, ...guarded.lines].some((l) => l.msg === "gateway internal error")).toBe(false);
  });

  it("a rule that reads the body is a bug, answered 500 before anything reaches Kratos", async () => {
    const reader: GatewayRule = async (c, next) => {
      await c.req.json();
      await next();
    };
    const { app, lines } = gateway([reader]);
    const res = await app.request(from("198.51.100.1", "/self-service/login?flow=f", { body: '{"identifier":"x"}' }));
    expect(res.status).toBe(500);
    expect(upstream.received).toHaveLength(0);
    const logged = lines.find((l) => l.msg === "gateway internal error") as { err: { stack: string } };
    expect(logged.err.stack).toContain("a gateway rule read the request body");
  });
});

describe("kratosErrorResponse", () => {
  it("adds a reason when given, and refuses a status Kratos's clients do not expect or an empty message", async () => {
    const res = kratosErrorResponse(403, "Sign-ups from this network are closed.", { reason: "ip_range" });
    expect(await res.json()).toEqual({
      error: { code: 403, status: "Forbidden", reason: "ip_range", message: "Sign-ups from this network are closed." },
    });
    expect(res.headers.get("cache-control")).toBe("private, no-cache, no-store, must-revalidate");
    expect(() => kratosErrorResponse(418 as never, "teapot")).toThrow("kratosErrorResponse: status 418 is not one of");
    expect(() => kratosErrorResponse(429, " ")).toThrow("kratosErrorResponse: expected a message for the client");
  });
});
