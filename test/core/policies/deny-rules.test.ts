import { describe, expect, it } from "vitest";
import type { Decision } from "../../../src/core/decision.js";
import { HOOK_IDS, type HookId } from "../../../src/core/hooks.js";
import { createDenyRules } from "../../../src/core/policies/deny-rules.js";
import { config, hookInput } from "../../support/hook-input.js";
import { policyContext } from "../../support/policy-context.js";

type Given = Parameters<typeof hookInput>[1];

/** The policy's decision on one input, with the deny rules set as given (defaults otherwise). */
function decide(rules: Record<string, unknown>, hook: HookId, given: Given): Decision {
  const policy = createDenyRules(config({ denyRules: rules }).denyRules);
  return policy.decide(hookInput(hook, given), policyContext()) as Decision;
}

/** "continue", or each message as `KEY at pointer`, with the reason from its context. */
function outcome(decision: Decision): string | string[] {
  if (decision.kind === "continue") return "continue";
  if (decision.kind === "patch") return "patch";
  return decision.messages.map((m) => `${m.key} at ${m.pointer} (${String(m.context.reason)})`);
}

const email = (address: string) => ({ traits: { email: address } });

describe("denyRules.decide: email domains on the hooks that save an identity", () => {
  it.each<[string, Record<string, unknown>, string, string | string[]]>([
    ["a disposable domain", {}, "x@mailinator.com", ["EMAIL_DOMAIN_DISPOSABLE at #/traits/email (disposable_domain)"]],
    ["a disposable subdomain", {}, "x@inbox.mailinator.com", ["EMAIL_DOMAIN_DISPOSABLE at #/traits/email (disposable_domain)"]],
    ["an ordinary domain", {}, "x@example.com", "continue"],
    ["a disposable domain with blockDisposable: false", { blockDisposable: false }, "x@mailinator.com", "continue"],
    [
      "a denied domain, any case",
      { denyDomains: ["example.org"] },
      "x@Example.ORG",
      ["EMAIL_DOMAIN_DENIED at #/traits/email (domain_denied)"],
    ],
    [
      "a subdomain of a denied domain",
      { denyDomains: ["example.org"] },
      "x@eu.example.org",
      ["EMAIL_DOMAIN_DENIED at #/traits/email (domain_denied)"],
    ],
    ["an allowed domain", { allowDomains: ["corp.example"] }, "x@corp.example", "continue"],
    [
      "a domain outside the allowlist",
      { allowDomains: ["corp.example"] },
      "x@example.com",
      ["EMAIL_DOMAIN_NOT_ALLOWED at #/traits/email (domain_not_allowed)"],
    ],
    ["a disposable domain on the allowlist", { allowDomains: ["mailinator.com"] }, "x@mailinator.com", "continue"],
    [
      "a denied subdomain of an allowed domain",
      { allowDomains: ["example.org"], denyDomains: ["bad.example.org"] },
      "x@bad.example.org",
      ["EMAIL_DOMAIN_DENIED at #/traits/email (domain_denied)"],
    ],
  ])("registration-after, %s", (_title, rules, address, expected) => {
    expect(outcome(decide(rules, "registration-after", email(address)))).toEqual(expected);
    expect(outcome(decide(rules, "settings-after", email(address)))).toEqual(expected);
  });

  it("checks every configured email trait, nested ones included, and reports each on its own field", () => {
    const rules = { emailTraits: ["email", "work.email"], denyDomains: ["example.org"] };
    const given = { traits: { email: "a@mailinator.com", work: { email: "b@example.org" } } };
    expect(outcome(decide(rules, "registration-after", given))).toEqual([
      "EMAIL_DOMAIN_DISPOSABLE at #/traits/email (disposable_domain)",
      "EMAIL_DOMAIN_DENIED at #/traits/work/email (domain_denied)",
    ]);
  });

  it("reads only the configured traits", () => {
    expect(outcome(decide({ emailTraits: ["contact"] }, "registration-after", email("x@mailinator.com")))).toBe("continue");
  });

  it("names the domain it refused in the message's context", () => {
    const decision = decide({ denyDomains: ["example.org"] }, "registration-after", email("x@eu.example.org"));
    expect(decision.kind === "deny" && decision.messages[0]?.context).toEqual({ reason: "domain_denied", domain: "eu.example.org" });
  });
});

describe("denyRules.decide: login-after checks the account, not the disposable list", () => {
  const flagged = { traits: { email: "x@example.com" }, metadataPublic: { blocked: true } };
  it.each<[string, Record<string, unknown>, Given, string | string[]]>([
    ["an ordinary account", {}, email("x@example.com"), "continue"],
    ["a disposable address (the list changes; accounts must not lock out)", {}, email("x@mailinator.com"), "continue"],
    [
      "a domain denied after the account registered",
      { denyDomains: ["example.org"] },
      email("x@example.org"),
      ["LOGIN_DENIED at #/ (email_domain_denied)"],
    ],
    [
      "a denied domain with login.checkDeniedDomains: false",
      { denyDomains: ["example.org"], login: { checkDeniedDomains: false } },
      email("x@example.org"),
      "continue",
    ],
    [
      "a denied domain with login.enabled: false",
      { denyDomains: ["example.org"], login: { enabled: false } },
      email("x@example.org"),
      "continue",
    ],
    [
      "a metadata_public flag",
      { login: { metadataPublic: [{ key: "blocked", equals: true }] } },
      flagged,
      ["LOGIN_DENIED at #/ (metadata_flag)"],
    ],
    ["a flag with another value", { login: { metadataPublic: [{ key: "blocked", equals: "yes" }] } }, flagged, "continue"],
    [
      "a metadata_public flag with login.enabled: false",
      { login: { enabled: false, metadataPublic: [{ key: "blocked", equals: true }] } },
      flagged,
      "continue",
    ],
  ])("%s", (_title, rules, given, expected) => {
    expect(outcome(decide(rules, "login-after", given))).toEqual(expected);
  });

  it("login rules do not apply to registration (a flag is not a sign-up rule)", () => {
    expect(outcome(decide({ login: { metadataPublic: [{ key: "blocked", equals: true }] } }, "registration-after", flagged))).toBe(
      "continue",
    );
  });
});

describe("denyRules.decide: before-hooks read request metadata only", () => {
  const BEFORE = HOOK_IDS.filter((hook) => hook.endsWith("-before"));
  it.each<[string, Record<string, unknown>, Record<string, string>, string | string[]]>([
    ["no rules", {}, {}, "continue"],
    ["a required header present", { requiredHeaders: ["X-App-Version"] }, { "x-app-version": "1.2" }, "continue"],
    ["a required header missing", { requiredHeaders: ["X-App-Version"] }, {}, ["REQUEST_DENIED at #/ (missing_header)"]],
    [
      "a required header blank",
      { requiredHeaders: ["X-App-Version"] },
      { "x-app-version": "  " },
      ["REQUEST_DENIED at #/ (missing_header)"],
    ],
    [
      "a denied User-Agent, any case",
      { denyUserAgents: ["curl/"] },
      { "user-agent": "CURL/8.1" },
      ["REQUEST_DENIED at #/ (user_agent_denied)"],
    ],
    ["another User-Agent", { denyUserAgents: ["curl/"] }, { "user-agent": "Mozilla/5.0" }, "continue"],
    ["a missing header with request.enabled: false", { enabled: false, requiredHeaders: ["X-App-Version"] }, {}, "continue"],
  ])("%s", (_title, request, headers, expected) => {
    expect(BEFORE.length).toBeGreaterThan(0);
    for (const hook of BEFORE) expect(outcome(decide({ request }, hook, { headers }))).toEqual(expected);
  });

  it("request rules do not apply to after-hooks", () => {
    const rules = { request: { requiredHeaders: ["X-App-Version"] } };
    for (const hook of HOOK_IDS.filter((h) => !h.endsWith("-before"))) {
      expect(outcome(decide(rules, hook, email("x@example.com")))).toBe("continue");
    }
  });
});
