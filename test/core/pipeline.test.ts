import { describe, expect, it } from "vitest";
import type { Decision, HookInput } from "../../src/core/decision.js";
import type { HookId } from "../../src/core/hooks.js";
import { runPipeline } from "../../src/core/pipeline.js";
import type { Policy } from "../../src/core/policy.js";
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

  it("throws when a policy patches a hook that carries no identity (a bug, never an answer)", async () => {
    const bad = policy("bad", () => ({ kind: "patch", identity: { schemaId: "x" } }), ["login-before"]);
    await expect(runPipeline([bad], hookInput("login-before"), policyContext())).rejects.toThrow(
      "policy bad on login-before: patched the identity on login-before, where Kratos does not save a change",
    );
  });

  it("throws when a policy denies without a message (Kratos would fail the flow on an empty 422)", async () => {
    const mute = policy("mute", () => ({ kind: "deny", messages: [] }));
    await expect(run([mute])).rejects.toThrow("policy mute on registration-after: denied without a message");
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
    expect(await result).toEqual({ kind: "timeout", by: "hang" });
    expect(later.seen).toEqual([]);
  });

  it("does not start a policy once the signal has fired", async () => {
    const context = policyContext();
    context.abort();
    const first = policy("first", () => ({ kind: "continue" }));
    expect(await runPipeline([first], input(), context)).toEqual({ kind: "timeout", by: "none" });
    expect(first.seen).toEqual([]);
  });

  it("names the policy that ran when the signal fired between two policies, and does not start the next", async () => {
    const context = policyContext();
    const spender = policy("spender", () => {
      context.abort();
      return { kind: "continue" };
    });
    const next = policy("next", () => ({ kind: "continue" }));
    expect(await runPipeline([spender, next], input(), context)).toEqual({ kind: "timeout", by: "spender" });
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
    expect(await result).toEqual({ kind: "timeout", by: "thenable" });
  });

  it("takes a rejection after the signal fired as the timeout, and one before it as the policy's bug", async () => {
    const context = policyContext();
    const fetchLike: Policy = {
      name: "fetchLike",
      hooks: new Set(["registration-after"]),
      decide: (_input, { signal }) =>
        new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))),
    };
    const result = runPipeline([fetchLike], input(), context);
    context.abort();
    expect(await result).toEqual({ kind: "timeout", by: "fetchLike" });
    const broken = policy("broken", () => Promise.reject(new Error("bug")));
    await expect(run([broken])).rejects.toThrow("bug");
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
