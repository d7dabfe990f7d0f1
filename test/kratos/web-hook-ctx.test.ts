// The ctx Kratos sends a web_hook, as `try` and kratos-hooks/testing build it (src/kratos/web-hook-ctx.ts).
import { describe, expect, it } from "vitest";
import { canonicalHeaderKey } from "../../src/kratos/header-allowlist.js";
import { completeWebHookCtx } from "../../src/kratos/web-hook-ctx.js";

describe("completeWebHookCtx", () => {
  it("fills what Kratos always sends, in place, and says what it filled", () => {
    const ctx: Record<string, unknown> = { identity: { traits: {} } };
    expect(completeWebHookCtx(ctx, "login-after")).toEqual([
      "flow ({})",
      'flow.id ("00000000-0000-0000-0000-000000000000")',
      'flow.type ("api")',
      "request_headers ({})",
      'request_method ("POST")',
      'request_url ("")',
      "request_cookies ({})",
      'identity.id ("00000000-0000-4000-8000-000000000001")',
      "identity.metadata_public (null)",
    ]);
    expect(ctx).toEqual({
      identity: { traits: {}, id: "00000000-0000-4000-8000-000000000001", metadata_public: null },
      flow: { id: "00000000-0000-0000-0000-000000000000", type: "api" },
      request_headers: {},
      request_method: "POST",
      request_url: "",
      request_cookies: {},
    });
  });

  it("gives an identity not stored yet the nil UUID, and leaves what the ctx has", () => {
    const ctx = {
      flow: { id: "f", type: "browser" },
      request_headers: { Accept: ["*/*"] },
      request_method: "GET",
      request_url: "https://auth.example.com/",
      request_cookies: {},
      identity: { traits: {}, metadata_public: null },
    };
    const before = structuredClone(ctx);
    expect(completeWebHookCtx(ctx, "registration-after")).toEqual(['identity.id ("00000000-0000-0000-0000-000000000000")']);
    expect(ctx).toEqual({ ...before, identity: { ...before.identity, id: "00000000-0000-0000-0000-000000000000" } });
  });

  it("replaces what Kratos never sends in its place (null, or a flow that is not an object)", () => {
    const ctx: Record<string, unknown> = { flow: null, request_headers: null, request_url: null };
    expect(completeWebHookCtx(ctx, "registration-before")).toEqual(
      expect.arrayContaining(["flow ({})", "request_headers ({})", 'request_url ("")']),
    );
    expect(ctx).toMatchObject({ flow: { type: "api" }, request_headers: {}, request_url: "" });
  });

  it("fills a null flow id and type, and a null identity id, as if they were missing", () => {
    const ctx: Record<string, unknown> = { flow: { id: null, type: null }, identity: { traits: {}, id: null } };
    completeWebHookCtx(ctx, "login-after");
    expect(ctx).toMatchObject({
      flow: { id: "00000000-0000-0000-0000-000000000000", type: "api" },
      identity: { id: "00000000-0000-4000-8000-000000000001" },
    });
  });

  it("leaves an identity that is not an object, and a before-hook's, to the caller", () => {
    const login: Record<string, unknown> = { identity: "x" };
    completeWebHookCtx(login, "login-after");
    expect(login.identity).toBe("x");
    const before: Record<string, unknown> = { identity: {} };
    completeWebHookCtx(before, "login-before");
    expect(before.identity).toEqual({});
  });
});

describe("canonicalHeaderKey", () => {
  it.each([
    ["user-agent", "User-Agent"],
    ["CF-IPCOUNTRY", "Cf-Ipcountry"],
    ["x-1a", "X-1a"],
    ["sec-ch-ua", "Sec-Ch-Ua"],
    ["bad name", "bad name"],
    ["ünicode", "ünicode"],
  ])("%s → %s, as Go's textproto.CanonicalMIMEHeaderKey", (name, canonical) => {
    expect(canonicalHeaderKey(name)).toBe(canonical);
  });
});
