import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ReportLine } from "../../src/backfill/report.js";
import { createAll, type Seed, seeds } from "./backfill-seed.js";
import { backfill, dump, reportLines } from "./backfill-support.js";
import { type Fault, FaultProxy } from "./fault-proxy.js";
import { useStack } from "./stack.js";

// Faults from a real process in front of Kratos's admin API (test/e2e/fault-proxy.ts): refused
// before Kratos sees the request, or committed by Kratos with the answer lost. Each case seeds a
// series of its own into the same Kratos and checks only its own identities.
const e2e = useStack();
let proxy: FaultProxy;

beforeAll(async () => {
  proxy = await FaultProxy.start(e2e.stack.kratosAdmin);
  return () => proxy.close();
});

async function seeded(series: number, count: number): Promise<{ list: Seed[]; ids: string[]; updated: string[] }> {
  const list = seeds(count, 0, series);
  const ids = await createAll(e2e.kratos.admin, list);
  return { list, ids, updated: ids.filter((_, i) => list[i]?.expected.status === "updated") };
}

/** A write of the test's own, next to the backfill's: SQLite refuses it now and then (lock contention), so it is tried until it passes. */
async function untilItPasses(write: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

async function run(name: string, args: string[] = [], env: Record<string, string> = {}) {
  const report = join(process.env.TMPDIR ?? "/tmp", `faults-${name}-${process.pid}.jsonl`);
  const proc = backfill(["--admin-url", proxy.url, "--region", "DE", "--report", report, ...args], env);
  const code = await proc.exit;
  const lines = existsSync(report) ? reportLines(report) : [];
  return { code, stderr: proc.stderr(), lines: new Map(lines.map((l) => [l.id, l])) };
}

describe("backfill: faults on the way to Kratos", () => {
  it("retries 429, 503 and dropped connections, recognises its own committed write, and writes nothing twice", async () => {
    const { list, ids, updated } = await seeded(3, 80);
    const [rejected, lost, dropped, throttled] = [updated.slice(0, 8), updated.slice(8, 16), updated.slice(16, 24), updated.slice(24, 30)];
    let listed = 0;
    const throttledOnce = new Set<string>();
    proxy.rule = ({ method, id, ids, count, path }): Fault => {
      if (method === "GET" && path.startsWith("/admin/identities?") && listed++ === 0) return { status: 503 };
      if (method === "PATCH" && count === 1 && rejected.includes(id ?? "")) return { status: 503 };
      if (method === "PATCH" && count === 1 && lost.includes(id ?? "")) return "lose-answer";
      if (method === "PATCH" && count === 1 && dropped.includes(id ?? "")) return "drop";
      // The re-read of a batch holding one of these: throttled once.
      const hit = ids.find((i) => throttled.includes(i) && !throttledOnce.has(i));
      if (method === "GET" && hit !== undefined) {
        throttledOnce.add(hit);
        return { status: 429 };
      }
      return "forward";
    };
    const { code, stderr, lines } = await run("transient");
    expect(code).toBe(1); // the series holds collisions and invalid numbers on purpose
    list.forEach((seed, i) => {
      // The whole report line (its reason, the failure) and the faults this identity met, should it differ.
      const why = JSON.stringify({ line: lines.get(ids[i] as string), faults: proxy.seen.filter((s) => s.id === ids[i]) });
      expect([ids[i], lines.get(ids[i] as string)?.status], why).toEqual([ids[i], seed.expected.status]);
    });
    // A lost answer whose write Kratos committed is recognised on the read back; one Kratos refused
    // (SQLite's lock contention, answer lost as well) is simply tried again.
    for (const id of lost) {
      const committedFirst = (proxy.seen.find((s) => s.id === id && s.outcome === "lose-answer")?.status ?? 500) < 300;
      expect([id, lines.get(id)?.committed_before_answer === true]).toEqual([id, committedFirst]);
    }
    expect(lost.filter((id) => lines.get(id)?.committed_before_answer === true).length).toBeGreaterThan(3);
    const committed = proxy.patchesCommitted();
    for (const id of updated) expect([id, committed.get(id)]).toEqual([id, 1]);
    expect(stderr).toMatch(/retried \d+ request\(s\): .*503 ×\d+/);
    expect(stderr).toMatch(/429 ×\d+/);
    const after = await dump(e2e.kratos.admin);
    for (const id of updated) expect((after.get(id) as { traits: { phone?: string } }).traits.phone ?? "+").toMatch(/^\+/);
  });

  it("reports failed when retries run out, on a conflict, a refusal, a deletion or a concurrent change; the rest goes on", async () => {
    const { ids, updated } = await seeded(4, 60);
    const [exhausted, conflict, refused, deleted, changed] = updated;
    const refusal = {
      status: 400,
      body: { error: { code: 400, status: "Bad Request", reason: "injected refusal", message: "The request was malformed" } },
    };
    const touched = new Set<string>();
    /** The first re-read of a batch holding `target`. */
    const firstReread = (ids: string[], target: string | undefined) => {
      if (target === undefined || !ids.includes(target) || touched.has(target)) return false;
      touched.add(target);
      return true;
    };
    proxy.rule = async ({ method, id, ids }): Promise<Fault> => {
      if (method === "PATCH" && id === exhausted) return { status: 503 };
      if (method === "PATCH" && id === conflict) return { status: 409 };
      if (method === "PATCH" && id === refused) return refusal;
      if (method === "GET" && firstReread(ids, deleted))
        await untilItPasses(() => e2e.kratos.admin.deleteIdentity({ id: deleted as string }));
      if (method === "GET" && firstReread(ids, changed)) {
        const jsonPatch = [{ op: "replace" as const, path: "/traits/phone", value: "+49 176 9999 0000" }];
        await untilItPasses(() => e2e.kratos.admin.patchIdentity({ id: changed as string, jsonPatch }));
      }
      return "forward";
    };
    const { code, lines } = await run("failures");
    expect(code).toBe(1);
    const line = (id: string | undefined) => lines.get(id as string) as ReportLine;
    expect(line(exhausted)).toMatchObject({ status: "failed", reason: "retries_exhausted", http_status: 503 });
    expect(proxy.seen.filter((s) => s.method === "PATCH" && s.id === exhausted)).toHaveLength(5);
    expect(line(conflict)).toMatchObject({ status: "failed", reason: "conflict", http_status: 409 });
    expect(proxy.seen.filter((s) => s.method === "PATCH" && s.id === conflict)).toHaveLength(1);
    expect(line(refused)).toMatchObject({ status: "failed", reason: "refused", http_status: 400, detail: "injected refusal" });
    expect(line(deleted)).toMatchObject({ status: "failed", reason: "deleted" });
    expect(line(changed)).toMatchObject({ status: "failed", reason: "changed_concurrently" });
    // The concurrent change stands; nothing of ours overwrote it.
    expect((await e2e.kratos.admin.getIdentity({ id: changed as string })).data.traits).toEqual({ phone: "+49 176 9999 0000" });
    // Every other identity of the series was done.
    const others = updated.slice(5);
    expect(others.length).toBeGreaterThan(20);
    for (const id of others) expect(line(id).status).toBe("updated");
    expect(lines.size).toBeGreaterThanOrEqual(ids.length - 1);
  });

  it("exits 2 when the admin API cannot be reached or refuses the token at the first request", async () => {
    const closed = backfill(["--admin-url", "http://127.0.0.1:9", "--dry-run"]);
    expect(await closed.exit).toBe(2);
    expect(closed.stderr()).toContain("cannot be reached");

    proxy.rule = ({ method }) => (method === "GET" ? { status: 401 } : "forward");
    const refused = await run("token-refused", ["--dry-run"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("pass its token with --token or KRATOS_ADMIN_TOKEN");

    // A protected admin API (Ory Network): the token from KRATOS_ADMIN_TOKEN goes as a bearer token.
    const seenAuth: (string | undefined)[] = [];
    proxy.rule = ({ method, headers }) => {
      const auth = headers.authorization;
      seenAuth.push(auth);
      return method === "GET" && auth !== "Bearer s3cret-token" ? { status: 401 } : "forward";
    };
    const allowed = await run("token", ["--dry-run"], { KRATOS_ADMIN_TOKEN: "s3cret-token" });
    expect(allowed.code).toBe(1);
    expect(seenAuth.every((auth) => auth === "Bearer s3cret-token")).toBe(true);
    expect(allowed.stderr).not.toContain("s3cret-token");
  });
});
