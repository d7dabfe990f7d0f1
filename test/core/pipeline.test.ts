import { describe, expect, it } from "vitest";
import type { Decision, HookInput } from "../../src/core/decision.js";
import { PolicyBugError } from "../../src/core/decision-check.js";
import { definePolicy } from "../../src/core/define-policy.js";
import type { HookId } from "../../src/core/hooks.js";
import { type PipelineResult, runPipeline } from "../../src/core/pipeline.js";
import { createPolicies, normalizePhonePolicy } from "../../src/core/policies/index.js";
import { builtIn, isBuiltInPolicy, type Policy } from "../../src/core/policy.js";
import { parseConfig } from "../../src/index.js";
import { hookInput } from "../support/hook-input.js";
import { policyContext } from "../support/policy-context.js";

/** A policy that records what it saw and decides as told. */
function policy(name: string, decide: (input: HookInput) => Decision | Promise<Decision>, hooks: HookId[] = ["registration-after"]) {
  const seen: HookInput[] = [];
  const p: Policy & { seen: HookInput[] } = {
    name,
    hooks: new Set(hooks),
    seen,
    decide: (input) => {
      seen.push(input);
      return decide(input);
    },
  };
  return p;
}

const input = () =>
  hookInput("registration-after", { traits: { email: "a@example.com", phone: "0176" }, metadataPublic: { plan: "free" } });
const run = (policies: Policy[], given = input()) => runPipeline(policies, given, policyContext());

/** A failed result's error, after checking the result is a failure at all. */
function errorOf(result: PipelineResult): PolicyBugError {
  if (result.kind !== "failed") throw new Error(`expected a failure, got ${result.kind}`);
  expect(result.error).toBeInstanceOf(PolicyBugError);
  return result.error;
}

describe("runPipeline", () => {
  it("continues when no policy applies to the hook, without calling any", async () => {
    const other = policy("other", () => ({ kind: "deny", messages: [] }), ["login-after"]);
    expect(await run([other])).toEqual({ kind: "continue" });
    expect(other.seen).toEqual([]);
  });

  it("passes each later policy the identity as patched so far, and names the policies that changed it", async () => {
    const first = policy("first", () => ({ kind: "patch", identity: { traits: { email: "a@example.com", phone: "+49176" } } }));
    const second = policy("second", () => ({ kind: "patch", identity: { schemaId: "phone" } }));
    const third = policy("third", () => ({ kind: "continue" }));
    expect(await run([first, second, third])).toEqual({
      kind: "patch",
      identity: { schemaId: "phone", traits: { email: "a@example.com", phone: "+49176" }, metadataPublic: { plan: "free" } },
      changed: ["schemaId", "traits"],
      by: ["first", "second"],
    });
    expect(second.seen[0]?.identity?.traits).toEqual({ email: "a@example.com", phone: "+49176" });
    expect(third.seen[0]?.identity?.schemaId).toBe("phone");
  });

  it("stops at the first deny, keeping its messages and naming its policy", async () => {
    const messages = [{ key: "PHONE_INVALID" as const, pointer: "#/traits/phone", context: { reason: "invalid_phone" } }];
    const patcher = policy("patcher", () => ({ kind: "patch", identity: { schemaId: "phone" } }));
    const denier = policy("denier", () => ({ kind: "deny", messages }));
    const never = policy("never", () => ({ kind: "continue" }));
    expect(await run([patcher, denier, never])).toEqual({ kind: "deny", messages, by: "denier" });
    expect(never.seen).toEqual([]);
  });

  it("answers a patch that changes nothing as continue (an answer never carries a no-op change)", async () => {
    const same = policy("same", (i) => ({ kind: "patch", identity: { traits: { ...i.identity?.traits }, schemaId: "default" } }));
    expect(await run([same])).toEqual({ kind: "continue" });
  });

  it("names only the fields that differ from what Kratos sent, even when a later policy undoes an earlier change", async () => {
    const there = policy("there", () => ({ kind: "patch", identity: { schemaId: "phone", metadataPublic: { plan: "pro" } } }));
    const back = policy("back", () => ({ kind: "patch", identity: { schemaId: "default" } }));
    expect(await run([there, back])).toMatchObject({ kind: "patch", changed: ["metadataPublic"], by: ["there", "back"] });
  });

  it("counts an absent external id and a null one as the same (none), and names a real change", async () => {
    const none = policy("none", () => ({ kind: "patch", identity: { externalId: null } }));
    expect(await run([none])).toEqual({ kind: "continue" });
    const set = policy("set", () => ({ kind: "patch", identity: { externalId: "crm-1" } }));
    expect(await run([set])).toMatchObject({ kind: "patch", changed: ["externalId"], identity: { externalId: "crm-1" } });
    const held = { ...input(), identity: { schemaId: "default", traits: {}, metadataPublic: null, externalId: "crm-1" } };
    expect(await run([none], held)).toMatchObject({ kind: "patch", changed: ["externalId"], identity: { externalId: null } });
    expect(await run([set], held)).toEqual({ kind: "continue" });
  });

  it("fails naming the policy when a policy patches a hook that carries no identity (a bug, never an answer)", async () => {
    const bad = policy("bad", () => ({ kind: "patch", identity: { schemaId: "x" } }), ["login-before"]);
    const result = await runPipeline([bad], hookInput("login-before"), policyContext());
    expect(result).toMatchObject({ kind: "failed", by: "bad", builtIn: false, settled: { kind: "continue" } });
    expect(errorOf(result).message).toBe(
      "policy bad on login-before: patched the identity on login-before, where Kratos does not save a change",
    );
  });

  it("fails naming the policy when a policy denies without a message (Kratos would fail the flow on an empty 422), and runs no later policy", async () => {
    const mute = policy("mute", () => ({ kind: "deny", messages: [] }));
    const never = policy("never", () => ({ kind: "continue" }));
    const result = await run([mute, never]);
    expect(result).toMatchObject({ kind: "failed", by: "mute", builtIn: false, settled: { kind: "continue" } });
    expect(errorOf(result).message).toBe("policy mute on registration-after: denied without a message");
    expect(never.seen).toEqual([]);
  });

  it("fails naming the policy when a policy throws, keeping what it threw as the cause, and runs no later policy", async () => {
    const thrown = new TypeError("cannot read properties of undefined");
    const broken = policy("broken", () => {
      throw thrown;
    });
    const never = policy("never", () => ({ kind: "continue" }));
    const result = await run([broken, never]);
    expect(result).toMatchObject({ kind: "failed", by: "broken", builtIn: false, settled: { kind: "continue" } });
    const error = errorOf(result);
    expect(error.message).toBe("policy broken on registration-after threw: cannot read properties of undefined");
    expect(error.cause).toBe(thrown);
    expect(never.seen).toEqual([]);
  });

  it("fails naming the policy when a policy throws something that is not an Error", async () => {
    const odd = policy("odd", () => {
      throw "no row";
    });
    const result = await run([odd]);
    expect(result).toMatchObject({ kind: "failed", by: "odd", builtIn: false });
    expect(errorOf(result).message).toBe("policy odd on registration-after threw: no row");
    expect(errorOf(result).cause).toBe("no row");
  });

  it("a failure after a patching policy carries that patch as settled (what failMode: open answers), never the failing policy's", async () => {
    const patcher = policy("patcher", () => ({ kind: "patch", identity: { traits: { email: "a@example.com", phone: "+49176" } } }));
    const noop = policy("noop", (i) => ({ kind: "patch", identity: { schemaId: i.identity?.schemaId ?? "default" } }));
    const broken = policy("broken", () => {
      throw new Error("bug");
    });
    expect(await run([patcher, noop, broken])).toMatchObject({
      kind: "failed",
      by: "broken",
      builtIn: false,
      settled: {
        kind: "patch",
        identity: { schemaId: "default", traits: { email: "a@example.com", phone: "+49176" }, metadataPublic: { plan: "free" } },
        changed: ["traits"],
        by: ["patcher", "noop"],
      },
    });
    // A decision refused as misread is not applied either: settled is what came before it.
    const wrong = policy("wrong", () => ({ kind: "patch", identity: { schemaId: "phone", traits: [] as never } }));
    expect(await run([patcher, wrong])).toMatchObject({
      kind: "failed",
      by: "wrong",
      settled: { kind: "patch", changed: ["traits"], by: ["patcher"], identity: { schemaId: "default" } },
    });
    // Changes that were undone before the failure settle nothing.
    const back = policy("back", () => ({ kind: "patch", identity: { traits: { email: "a@example.com", phone: "0176" } } }));
    expect(await run([patcher, back, broken])).toMatchObject({ kind: "failed", by: "broken", settled: { kind: "continue" } });
  });

  it("marks a failure of one of kratos-hooks's own policies as builtIn, and of yours as not", async () => {
    const ours = builtIn(
      policy("ours", () => {
        throw new Error("bug in kratos-hooks");
      }),
    );
    expect(await run([ours])).toMatchObject({ kind: "failed", by: "ours", builtIn: true });
    const yours = definePolicy({
      name: "yours",
      hooks: ["registration-after"],
      decide: () => {
        throw new Error("bug of yours");
      },
    });
    expect(await run([yours])).toMatchObject({ kind: "failed", by: "yours", builtIn: false });
  });

  it("knows the built-in policies as built-in, by identity, and a policy of your own as not", () => {
    const builtIns = createPolicies(parseConfig({}));
    expect(builtIns.map((p) => p.name)).toEqual(["normalizePhone", "denyRules", "routeSchema"]);
    expect(builtIns.map(isBuiltInPolicy)).toEqual([true, true, true]);
    expect(isBuiltInPolicy(normalizePhonePolicy(parseConfig({})))).toBe(true);
    const mine = definePolicy({ name: "normalizePhone", hooks: ["registration-after"], decide: () => ({ kind: "continue" }) });
    expect(isBuiltInPolicy(mine)).toBe(false);
  });

  it("awaits async policies in order", async () => {
    const slow = policy("slow", async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { kind: "patch", identity: { schemaId: "phone" } };
    });
    const next = policy("next", () => ({ kind: "continue" }));
    expect(await run([slow, next])).toMatchObject({ kind: "patch", by: ["slow"] });
    expect(next.seen[0]?.identity?.schemaId).toBe("phone");
  });
});

describe("runPipeline: the budget's signal", () => {
  it("returns a timeout naming the waiting policy when the signal fires, and runs no later policy", async () => {
    const context = policyContext();
    const hang = policy("hang", () => new Promise(() => {}));
    const later = policy("later", () => ({ kind: "continue" }));
    const result = runPipeline([hang, later], input(), context);
    setTimeout(() => context.abort(), 5);
    expect(await result).toEqual({ kind: "timeout", by: "hang", settled: { kind: "continue" } });
    expect(later.seen).toEqual([]);
  });

  it("does not start a policy once the signal has fired", async () => {
    const context = policyContext();
    context.abort();
    const first = policy("first", () => ({ kind: "continue" }));
    expect(await runPipeline([first], input(), context)).toEqual({ kind: "timeout", by: "none", settled: { kind: "continue" } });
    expect(first.seen).toEqual([]);
  });

  it("names the policy that ran when the signal fired between two policies, and does not start the next", async () => {
    const context = policyContext();
    const spender = policy("spender", () => {
      context.abort();
      return { kind: "continue" };
    });
    const next = policy("next", () => ({ kind: "continue" }));
    expect(await runPipeline([spender, next], input(), context)).toEqual({ kind: "timeout", by: "spender", settled: { kind: "continue" } });
    expect(next.seen).toEqual([]);
  });

  it("races a thenable that is not a native Promise as well", async () => {
    const context = policyContext();
    const thenable: Policy = {
      name: "thenable",
      hooks: new Set(["registration-after"]),
      // biome-ignore lint/suspicious/noThenProperty: the point of the test is a thenable that is not a Promise.
      decide: () => ({ then: () => {} }) as unknown as Promise<Decision>,
    };
    const result = runPipeline([thenable], input(), context);
    setTimeout(() => context.abort(), 5);
    expect(await result).toEqual({ kind: "timeout", by: "thenable", settled: { kind: "continue" } });
  });

  it("takes a rejection after the signal fired as the timeout, and one before it as the policy's failure", async () => {
    const context = policyContext();
    const fetchLike: Policy = {
      name: "fetchLike",
      hooks: new Set(["registration-after"]),
      decide: (_input, { signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))),
    };
    const result = runPipeline([fetchLike], input(), context);
    context.abort();
    expect(await result).toEqual({ kind: "timeout", by: "fetchLike", settled: { kind: "continue" } });
    const rejection = new Error("bug");
    const broken = policy("broken", () => Promise.reject(rejection));
    const failed = await run([broken]);
    expect(failed).toMatchObject({ kind: "failed", by: "broken", builtIn: false, settled: { kind: "continue" } });
    expect(errorOf(failed).message).toBe("policy broken on registration-after threw: bug");
    expect(errorOf(failed).cause).toBe(rejection);
  });

  it("a timeout after a patching policy carries that patch as settled (what failMode: open answers)", async () => {
    const context = policyContext();
    const patcher = policy("patcher", () => ({ kind: "patch", identity: { schemaId: "phone", metadataPublic: { plan: "pro" } } }));
    const hang = policy("hang", () => new Promise(() => {}));
    const result = runPipeline([patcher, hang], input(), context);
    setTimeout(() => context.abort(), 5);
    expect(await result).toEqual({
      kind: "timeout",
      by: "hang",
      settled: {
        kind: "patch",
        identity: { schemaId: "phone", traits: { email: "a@example.com", phone: "0176" }, metadataPublic: { plan: "pro" } },
        changed: ["schemaId", "metadataPublic"],
        by: ["patcher"],
      },
    });
    // Between two policies as well: the one that spent the budget had patched, and its patch stands.
    const between = policyContext();
    const spender = policy("spender", () => {
      between.abort();
      return { kind: "patch", identity: { schemaId: "phone" } };
    });
    const next = policy("next", () => ({ kind: "continue" }));
    expect(await runPipeline([spender, next], input(), between)).toMatchObject({
      kind: "timeout",
      by: "spender",
      settled: { kind: "patch", changed: ["schemaId"], by: ["spender"] },
    });
    expect(next.seen).toEqual([]);
  });

  it("passes the context (signal and logger) to every policy", async () => {
    const context = policyContext();
    const seen: unknown[] = [];
    const spy: Policy = {
      name: "spy",
      hooks: new Set(["registration-after"]),
      decide: (_input, given) => {
        seen.push(given);
        return { kind: "continue" };
      },
    };
    await runPipeline([spy, spy], input(), context);
    expect(seen).toEqual([context, context]);
  });
});
