import { hookCtx, runPolicy } from "kratos-hooks/testing";
import { describe, expect, it } from "vitest";
import { tagSignup } from "../src/policies/tag-signup.js";

describe("tag-signup", () => {
  it("tags a new identity with where it signed up, after the built-in policies", async () => {
    const ctx = hookCtx("registration-after", { traits: { email: "a@example.com" } });
    const verdict = await runPolicy(tagSignup, ctx, { withBuiltIns: true });
    expect(verdict.kind, verdict.explanation).toBe("save");
    expect(verdict.identity?.metadata_public).toMatchObject({ signup_source: "my-app" });
  });

  it("keeps what metadata_public already holds", async () => {
    const ctx = hookCtx("registration-after", { traits: { email: "a@example.com" }, metadataPublic: { plan: "free" } });
    const verdict = await runPolicy(tagSignup, ctx);
    expect(verdict.identity?.metadata_public).toEqual({ plan: "free", signup_source: "my-app" });
  });
});
