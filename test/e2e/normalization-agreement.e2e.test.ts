import { describe, expect, inject, it, vi } from "vitest";
import { toE164 } from "../../src/core/phone.js";
import { INTERNATIONAL_CORPUS } from "../support/phone-corpus.js";
import { kratosAtLeast, useStack } from "./stack.js";

// Kratos normalizes code identifiers itself (v1.3.0–v26.2.0 `x/normalize.go`: phonenumbers
// Parse(v, "") + IsValidNumber + E.164; `GracefulNormalization` at code login), and its `format:
// tel` check refuses what that cannot read. Ours must agree on every number of the corpus, so that
// the hooks, the gateway and Kratos never disagree on which number a person typed: an identity is
// created on the `phone` schema (its phone a code identifier via sms) through the admin API, and
// its code identifier read back.

const e2e = useStack();

/**
 * Where a release reads a number differently from ours, measured: v1.3.1's phonenumbers (1.3.6)
 * still strips Mexico's old mobile token "1" (withdrawn in 2019), so it stores a number that
 * v26.2.0 (1.6.5) and libphonenumber-js refuse. Nothing for v26.2.0.
 */
const KNOWN: Record<string, string[]> = {
  "v1.3.1": ["+52 1 55 1234 5678: Kratos +525512345678, ours invalid"],
  "v26.2.0": [],
};

/** What Kratos makes of a number: the E.164 of its code identifier, or "invalid" when it refuses the trait. */
async function kratosReads(raw: string): Promise<string> {
  const res = await fetch(`${e2e.stack.kratosAdmin}/admin/identities`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ schema_id: "phone", traits: { phone: raw } }),
  });
  const created = (await res.json()) as { id?: string; error?: { message?: string } };
  if (res.status === 400) return "invalid";
  expect(res.status, JSON.stringify(created)).toBe(201);
  const read = await fetch(`${e2e.stack.kratosAdmin}/admin/identities/${created.id}?include_credential=code`);
  const identity = (await read.json()) as { credentials?: { code?: { identifiers?: string[] } } };
  await fetch(`${e2e.stack.kratosAdmin}/admin/identities/${created.id}`, { method: "DELETE" });
  const identifiers = identity.credentials?.code?.identifiers ?? [];
  expect(identifiers).toHaveLength(1);
  return identifiers[0] as string;
}

async function loginByCode(identifier: string) {
  const flow = await e2e.kratos.createFlow("login");
  return e2e.kratos.submit("login", flow.body.id ?? "", { method: "code", identifier });
}

function oursReads(raw: string): string {
  const result = toE164(raw, undefined);
  return result.ok ? result.e164 : "invalid";
}

describe("Kratos's own phone normalization and ours agree", () => {
  it("on every number of the corpus: the same E.164, or both refuse (v1.3.1: one known difference)", async () => {
    const disagreements: string[] = [];
    let valid = 0;
    for (const raw of INTERNATIONAL_CORPUS) {
      const [kratos, ours] = [await kratosReads(raw), oursReads(raw)];
      if (kratos !== "invalid") valid++;
      if (kratos !== ours) disagreements.push(`${raw}: Kratos ${kratos}, ours ${ours}`);
    }
    expect(disagreements).toEqual(KNOWN[inject("kratosVersion")] ?? []);
    // The corpus exercises both outcomes.
    expect(valid).toBeGreaterThan(30);
    expect(valid).toBeLessThan(INTERNATIONAL_CORPUS.length);
  });

  it("at SMS code login straight to Kratos (GracefulNormalization): every valid number of the corpus, as written, reaches the identity stored in our E.164", {
    timeout: 60_000,
  }, async () => {
    const valid = INTERNATIONAL_CORPUS.flatMap((raw) => {
      const result = toE164(raw, undefined);
      return result.ok ? [{ raw, e164: result.e164 }] : [];
    });
    for (const e164 of new Set(valid.map((v) => v.e164))) {
      const res = await e2e.kratos.admin.createIdentity({ createIdentityBody: { schema_id: "phone", traits: { phone: e164 } } });
      expect(res.status).toBe(201);
    }
    // One login after another (Kratos v1.3.1's in-memory SQLite fails concurrent submits now and
    // then), then the texts counted per number: the courier sends them once a second.
    // Measured: v1.3.1 answers about one in 200 code-login submits with 4000001 and an empty
    // reason, logging nothing, and the same submit on a fresh flow passes. Such an answer is tried
    // once more; a number Kratos reads differently would fail both times.
    const since = e2e.stack.sink.messages.length;
    const answers: Awaited<ReturnType<typeof e2e.kratos.submit>>[] = [];
    const emptyRefusal = (res: { status: number; body: { ui?: { messages?: { id: number; context?: unknown }[] } } }) =>
      !kratosAtLeast("v25.4.0") &&
      res.status === 400 &&
      JSON.stringify(res.body.ui?.messages?.map((m) => [m.id, m.context])) === JSON.stringify([[4000001, { reason: "" }]]);
    let retried = 0;
    for (const { raw } of valid) {
      let res = await loginByCode(raw);
      if (emptyRefusal(res)) {
        retried++;
        res = await loginByCode(raw);
      }
      answers.push(res);
    }
    expect(retried).toBeLessThanOrEqual(2);
    const missed = valid.flatMap(({ raw }, i) =>
      answers[i]?.status === 400 && answers[i]?.body.state === "sent_email"
        ? []
        : [`${raw}: ${answers[i]?.status} ${JSON.stringify(answers[i]?.body.ui?.messages ?? [])}`],
    );
    expect(missed).toEqual([]);
    const expected = new Map<string, number>();
    for (const { e164 } of valid) expected.set(e164, (expected.get(e164) ?? 0) + 1);
    const texted = () => {
      const count = new Map<string, number>();
      for (const m of e2e.stack.sink.messages.slice(since))
        if (m.template_type === "login_code_valid") count.set(m.to, (count.get(m.to) ?? 0) + 1);
      return count;
    };
    await vi.waitFor(() => expect(texted()).toEqual(expected), { timeout: 30_000, interval: 200 });
  });
});
