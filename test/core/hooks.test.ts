import { existsSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { factsOf, HOOK_IDS, HOOKS, hookAt, hooksWhere, isBeforeHook, isHookId } from "../../src/core/hooks.js";
import { createPolicies } from "../../src/core/policies/index.js";
import { config } from "../support/hook-input.js";

const KRATOS = new URL("../../kratos/", import.meta.url);

describe("the hook table", () => {
  it("names each hook <flow>-<when>, and hookAt finds it from its place in kratos.yml", () => {
    for (const id of HOOK_IDS) {
      expect(id).toBe(`${HOOKS[id].flow}-${HOOKS[id].when}`);
      expect(hookAt(HOOKS[id].flow, HOOKS[id].when)).toBe(id);
    }
    expect(hookAt("settings", "before")).toBeNull();
    expect(hookAt("recovery", "after")).toBeNull();
  });

  it("ships a Jsonnet template and at least one example context for every hook, and none for a hook we do not serve", () => {
    const templates = readdirSync(new URL("hooks/", KRATOS)).map((f) => f.replace(/\.jsonnet$/, ""));
    expect(templates.sort()).toEqual([...HOOK_IDS].sort());
    const examples = new Set(readdirSync(new URL("examples/", KRATOS)).map((f) => f.split(".")[0]));
    expect([...examples].sort()).toEqual([...HOOK_IDS].sort());
    for (const id of HOOK_IDS) expect(existsSync(new URL(`hooks/${id}.jsonnet`, KRATOS))).toBe(true);
  });

  it("holds facts that agree with each other", () => {
    for (const id of HOOK_IDS) {
      const facts = factsOf(id);
      expect(isBeforeHook(id)).toBe(facts.when === "before");
      expect(facts.hasIdentity).toBe(facts.when === "after");
      if (facts.persistsPatch || facts.createsIdentity) expect(facts.hasIdentity).toBe(true);
      if (facts.createsIdentity) expect(facts.persistsPatch).toBe(true);
      if (!facts.hasIdentity) expect(facts.denial).toBe("flow-not-created");
    }
    expect(isHookId("registration-after")).toBe(true);
    expect(isHookId("toString")).toBe(false);
    expect(isHookId("recovery-after")).toBe(false);
  });

  it("is where the built-in policies learn which hooks they run on", () => {
    const hooksOf = Object.fromEntries(createPolicies(config()).map((p) => [p.name, [...p.hooks].sort()]));
    expect(hooksOf).toEqual({
      normalizePhone: [...hooksWhere((h) => h.persistsPatch)].sort(),
      denyRules: [...HOOK_IDS].sort(),
      routeSchema: [...hooksWhere((h) => h.createsIdentity)].sort(),
    });
    expect(hooksOf.normalizePhone).toEqual(["registration-after", "settings-after"]);
    expect(hooksOf.routeSchema).toEqual(["registration-after"]);
  });
});
