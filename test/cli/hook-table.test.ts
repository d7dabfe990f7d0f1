import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { hookTableFindings } from "../../src/cli/doctor-hook-table.js";
import { type HookRow, hookTable } from "../../src/cli/hook-table.js";
import { cli, editedKratosYml, ROOT } from "../support/cli.js";

// The model of which hooks Kratos runs (src/cli/hook-table.ts), on the shipped kratos.yml and the
// edits users make to it. test/e2e/hook-table-agreement.e2e.test.ts holds the same model to what
// real Kratos v1.3.1 and v26.2.0 call.

const V1 = { modern: false };
const V26 = { modern: true };

function shipped(): Record<string, unknown> {
  return parse(readFileSync(join(ROOT, "kratos/kratos.yml"), "utf8"), { merge: true }) as Record<string, unknown>;
}

/** `selfservice.flows.<flow>.after` of a parsed kratos.yml, to edit. */
function afterOf(data: Record<string, unknown>, flow: string): Record<string, unknown> {
  const section = (data.selfservice as { flows: Record<string, { after?: Record<string, unknown> }> }).flows[flow]?.after;
  if (section === undefined) throw new Error(`the shipped kratos.yml has no ${flow}.after`);
  return section;
}
const webHook = (url: string, parse = false) => ({
  hook: "web_hook",
  config: { url, method: "POST", body: "base64://e30=", ...(parse && { response: { parse: true } }) },
});

/** A row's hooks as `name@step` (web_hooks by route, or `audit` for another service), running ones only. */
function running(table: HookRow[], flow: string, phase: string, method: string | null): string[] {
  const row = table.find((r) => r.flow === flow && r.phase === phase && r.method === method);
  if (row === undefined) throw new Error(`no row ${flow} ${phase} ${method}`);
  return row.hooks
    .filter((h) => h.runs)
    .map(
      (h) => `${h.hook === "web_hook" ? (h.route ?? "audit") : h.hook}${h.internal ? "*" : ""}${h.step === undefined ? "" : `@${h.step}`}`,
    );
}

describe("the effective hook table of the shipped kratos.yml", () => {
  it("has a row per flow that runs, its before, and an after per enabled method", () => {
    const rows = hookTable(shipped(), V26).map((r) => `${r.flow} ${r.phase} ${r.method ?? "-"}`);
    expect(rows).toEqual([
      "registration before -",
      "registration after password",
      "registration after code",
      "login before -",
      "login after password",
      "login after code",
      "settings before -",
      "settings after profile",
      "settings after password",
      "verification before -",
      "verification after -",
      "recovery before -",
      "recovery after -",
    ]);
  });

  it("registration by password: ours before saving, then Kratos's verification hook, show_verification_ui and the session", () => {
    expect(running(hookTable(shipped(), V26), "registration", "after", "password")).toEqual([
      "registration-after@pre-persist",
      "verification*@post-persist",
      "show_verification_ui@post-persist",
      "session@post-persist",
    ]);
  });

  it("v1.3.1 adds its code-address verifier to code sign-ups and the two-step hook before registration; v26.2.0 neither", () => {
    expect(running(hookTable(shipped(), V1), "registration", "after", "code")[0]).toBe("code_address_verifier*@pre-persist");
    expect(running(hookTable(shipped(), V26), "registration", "after", "code")[0]).toBe("registration-after@pre-persist");
    expect(running(hookTable(shipped(), V1), "registration", "before", null)).toEqual(["registration-before", "two_step_registration*"]);
    expect(running(hookTable(shipped(), V26), "registration", "before", null)).toEqual(["registration-before"]);
  });

  it("login by password and by code run the flow's own list: /hooks/login-after", () => {
    const table = hookTable(shipped(), V26);
    expect(running(table, "login", "after", "password")).toEqual(["login-after"]);
    expect(running(table, "login", "after", "code")).toEqual(["login-after"]);
  });

  it("the parse web_hook is also built into the post-persist list, skipped there: it still hides the flow's list", () => {
    const row = hookTable(shipped(), V26).find((r) => r.flow === "registration" && r.method === "password");
    const skipped = row?.hooks.filter((h) => !h.runs);
    expect(skipped).toMatchObject([{ hook: "web_hook", route: "registration-after", step: "post-persist", runs: false }]);
  });
});

describe("a method's own list replaces the flow's", () => {
  it("login.after.password.hooks: [revoke_active_sessions] stops /hooks/login-after for password logins only, and says so", () => {
    const data = shipped();
    afterOf(data, "login").password = { hooks: [{ hook: "revoke_active_sessions" }] };
    const table = hookTable(data, V26);
    expect(running(table, "login", "after", "password")).toEqual(["revoke_active_sessions"]);
    expect(running(table, "login", "after", "code")).toEqual(["login-after"]);
    const findings = hookTableFindings(data, table, V26);
    expect(findings).toMatchObject([
      {
        code: "hook-hidden",
        effect: "fails_at_runtime",
        path: "selfservice.flows.login.after.password.hooks",
        fix: "add the same web_hook to selfservice.flows.login.after.password.hooks (before any require_verified_address), or remove that list",
      },
    ]);
    expect(findings[0]?.message).toContain(
      "/hooks/login-after (selfservice.flows.login.after.hooks[0]) does not run for logins by password",
    );
  });

  it("a list of names Kratos drops, or an empty one, counts as none: the flow's list runs", () => {
    for (const hooks of [[], [{ hook: "b2b_sso" }], [{ hook: "no_such_hook" }]]) {
      const data = shipped();
      afterOf(data, "login").code = { hooks };
      expect(running(hookTable(data, V26), "login", "after", "code")).toEqual(["login-after"]);
    }
  });

  it("registration: a parse web_hook in the method's list hides the flow's post-persist list", () => {
    const data = shipped();
    afterOf(data, "registration").hooks = [webHook("http://127.0.0.1:9/audit")];
    const table = hookTable(data, V26);
    expect(running(table, "registration", "after", "password")).not.toContain("audit@post-persist");
    delete afterOf(data, "registration").password;
    delete afterOf(data, "registration").code;
    expect(running(hookTable(data, V26), "registration", "after", "password")).toEqual([
      "verification*@post-persist",
      "audit@post-persist",
    ]);
  });

  it("session runs last, once, wherever it is listed", () => {
    const data = shipped();
    const password = afterOf(data, "registration").password as { hooks: unknown[] } | undefined;
    if (password === undefined) throw new Error("the shipped kratos.yml has no registration.after.password");
    password.hooks = [{ hook: "session" }, webHook("http://127.0.0.1:9/audit"), ...password.hooks];
    const hooks = running(hookTable(data, V26), "registration", "after", "password");
    expect(hooks.at(-1)).toBe("session@post-persist");
    expect(hooks.filter((h) => h.startsWith("session"))).toHaveLength(1);
    expect(hooks).toContain("audit@post-persist");
  });
});

describe("methods", () => {
  it("an enabled method without our hook where the flow's others have it is method-not-wired, for login too", () => {
    const data = shipped();
    (data.selfservice as { methods: Record<string, unknown> }).methods.totp = { enabled: true, config: { issuer: "t" } };
    afterOf(data, "login").totp = { hooks: [{ hook: "revoke_active_sessions" }] };
    const table = hookTable(data, V26);
    expect(running(table, "login", "after", "totp")).toEqual(["revoke_active_sessions"]);
    // The flow's own list holds /hooks/login-after, so a totp list hiding it is hook-hidden, not also method-not-wired.
    expect(hookTableFindings(data, table, V26).map((f) => [f.code, f.path])).toEqual([
      ["hook-hidden", "selfservice.flows.login.after.totp.hooks"],
    ]);
  });

  it("settings: only profile changes traits, so a password change without /hooks/settings-after is no finding", () => {
    const data = shipped();
    expect(running(hookTable(data, V26), "settings", "after", "password")).toEqual(["verification*@post-persist"]);
    expect(hookTableFindings(data, hookTable(data, V26), V26)).toEqual([]);
  });

  it("code is on by default; registration by code needs passwordless_enabled, login by code passwordless_enabled or mfa_enabled", () => {
    const data = shipped();
    const code = (data.selfservice as { methods: Record<string, Record<string, unknown>> }).methods.code;
    if (code === undefined) throw new Error("the shipped kratos.yml has no code method");
    code.passwordless_enabled = false;
    code.mfa_enabled = true;
    const rows = hookTable(data, V26).map((r) => `${r.flow} ${r.method}`);
    expect(rows).not.toContain("registration code");
    expect(rows).toContain("login code");
  });
});

describe("doctor --hooks", () => {
  it("prints the table for the shipped config on both releases, after the findings", async () => {
    for (const version of ["v1.3.1", "v26.2.0"]) {
      const run = await cli("doctor", join(ROOT, "kratos/kratos.yml"), "--hooks", "--kratos-version", version);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`hooks Kratos ${version} runs, in order (flow, phase, method):`);
      expect(run.stdout).toMatch(/^ {2}login after password +\/hooks\/login-after$/m);
      const json = JSON.parse(
        (await cli("doctor", join(ROOT, "kratos/kratos.yml"), "--hooks", "--json", "--kratos-version", version)).stdout,
      );
      expect(json.hookTable).toEqual(hookTable(shipped(), version === "v1.3.1" ? V1 : V26));
    }
  });

  it("the table docs/kratos-wiring.md shows is what it prints for the shipped config on v26.2.0", async () => {
    const docs = readFileSync(join(ROOT, "docs/kratos-wiring.md"), "utf8");
    const section = docs.slice(docs.indexOf("## Why my hook doesn't fire"));
    const block = /```\n([\s\S]*?)\n```/.exec(section)?.[1];
    if (block === undefined) throw new Error("docs/kratos-wiring.md has no table under Why my hook doesn't fire");
    const printed = (await cli("doctor", join(ROOT, "kratos/kratos.yml"), "--hooks", "--kratos-version", "v26.2.0")).stdout.split("\n");
    for (const line of block.split("\n")) expect(printed).toContain(line);
  });

  it("a web_hook to another service is shown as not kratos-hooks, and is no finding", async () => {
    process.env.HOOKS_API_KEYS = "test-key-0123456789abcdef,dev-only-insecure-key";
    const file = editedKratosYml((data) => {
      (afterOf(data, "login").hooks as unknown[]).push(webHook("https://audit.example.com/events/login"));
    });
    const run = await cli("doctor", file, "--cwd", join(ROOT, "kratos"), "--hooks", "--kratos-version", "v26.2.0");
    expect(run.stdout).toMatch(
      /login after password +\/hooks\/login-after → web_hook https:\/\/audit\.example\.com\/events\/login \(not kratos-hooks\)/,
    );
    expect(run.stdout).not.toMatch(/ error /);
    expect(run.code).toBe(0);
  });
});
