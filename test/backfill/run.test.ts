import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AdminFailure, RetryOptions } from "../../src/backfill/admin.js";
import { readCheckpoint, writeCheckpoint } from "../../src/backfill/checkpoint.js";
import type { BackfillIO } from "../../src/backfill/progress.js";
import { type ReportLine, readReport } from "../../src/backfill/report.js";
import { type BackfillOptions, runBackfill } from "../../src/backfill/run.js";
import { parseConfig } from "../../src/config/parse.js";
import { type FakeIdentity, FakeKratos } from "../support/fake-admin.js";

// `runBackfill` against an in-memory admin API (test/support/fake-admin.ts), part by part: the
// scan, the collision index, the dry run, the resume filter, the batched re-read, the retries,
// the read-back, the checkpoint and the summary. The end-to-end suite (test/e2e/backfill*.e2e.test.ts)
// runs the same against real Kratos.

const ADMIN_URL = "http://kratos.test:4434";
const CONFIG = parseConfig({ normalizePhone: { defaultRegion: "DE" } }, "test");
/** PATCH retries for the run: three attempts, a millisecond apart. */
const RETRIES: RetryOptions = { attempts: 3, contentionAttempts: 5, contentionBackoffMs: 1, backoffMs: 1 };

/** Ids in keyset order: `id(1) < id(2) < …`. */
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

function identity(n: number, schema_id: string, traits: Record<string, unknown>, rest: Partial<FakeIdentity> = {}): FakeIdentity {
  return { id: id(n), schema_id, traits, metadata_public: null, metadata_admin: null, ...rest };
}

/** What the backfill must make of a seeded identity (the default rules, region DE). */
interface Case {
  seed: FakeIdentity;
  status: ReportLine["status"];
  after: { schema_id: string; traits: Record<string, unknown> };
}

const same = (seed: FakeIdentity, status: ReportLine["status"]): Case => ({
  seed,
  status,
  after: { schema_id: seed.schema_id, traits: seed.traits },
});

/** Identities as a team that adopted the hooks late has them (the kinds of test/e2e/backfill-seed.ts, a few of each). */
function population(): Case[] {
  return [
    {
      seed: identity(1, "default", { phone: "0176 5551 0001" }),
      status: "updated",
      after: { schema_id: "phone", traits: { phone: "+4917655510001" } },
    },
    {
      seed: identity(2, "default", { email: "person2@example.org" }),
      status: "updated",
      after: { schema_id: "email", traits: { email: "person2@example.org" } },
    },
    {
      seed: identity(3, "default", { email: "both3@example.org", phone: "(0176) 55530003" }),
      status: "updated",
      after: { schema_id: "email", traits: { email: "both3@example.org", phone: "+4917655530003" } },
    },
    same(identity(4, "phone", { phone: "+4917655540004" }), "unchanged"),
    {
      seed: identity(
        5,
        "phone",
        { phone: "+49 176 5555 0005" },
        {
          verifiable_addresses: [{ value: "+49 176 5555 0005", via: "sms", verified: true, status: "completed" }],
          recovery_addresses: [{ value: "+49 176 5555 0005", via: "sms" }],
          metadata_public: { plan: "gold", n: 5 },
          metadata_admin: { note: "seeded 5" },
        },
      ),
      status: "updated",
      after: { schema_id: "phone", traits: { phone: "+4917655550005" } },
    },
    same(identity(6, "default", { phone: "0176 006" }), "invalid"),
    same(identity(7, "default", { email: "throwaway7@mailinator.com" }), "denied"),
    {
      seed: identity(8, "default", { phone: "0049 176 55510008" }, { credentials: { password: { identifiers: ["0049 176 55510008"] } } }),
      status: "updated",
      after: { schema_id: "phone", traits: { phone: "+4917655510008" } },
    },
    {
      seed: identity(9, "default", { phone: "+49 (0)176 5557 0009" }, { metadata_public: { tier: 0 }, metadata_admin: { crm: "c-9" } }),
      status: "updated",
      after: { schema_id: "phone", traits: { phone: "+4917655570009" } },
    },
    // The same number twice, written two ways: neither is written.
    same(identity(10, "default", { phone: "0176 5556 0010" }), "collision"),
    same(identity(11, "default", { phone: "+49 176 5556 0010" }), "collision"),
    {
      seed: identity(12, "default", { phone: "0176/55510012" }),
      status: "updated",
      after: { schema_id: "phone", traits: { phone: "+4917655510012" } },
    },
  ];
}

interface Ran {
  result: Awaited<ReturnType<typeof runBackfill>>;
  lines: ReportLine[];
  stdout: string;
  stderr: string;
  report: string;
  retried: AdminFailure[];
}

function reportLines(file: string): ReportLine[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ReportLine);
}

const newReport = () => join(mkdtempSync(join(tmpdir(), "kratos-hooks-run-")), "report.jsonl");

/** One run, as the CLI makes it, over `fake`; a small page size and a pool of 3 so that pages, batches and the pool all take part. */
async function run(fake: FakeKratos, options: Partial<BackfillOptions> = {}, signal = new AbortController().signal): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  const io: BackfillIO = { out: (t) => out.push(t), err: (t) => err.push(t), isTTY: false, signal };
  const retried: AdminFailure[] = [];
  const report = options.report ?? newReport();
  const result = await runBackfill(
    {
      adminUrl: ADMIN_URL,
      admin: fake,
      config: CONFIG,
      dryRun: false,
      concurrency: 3,
      pageSize: 4,
      retries: RETRIES,
      onRetry: (failure) => retried.push(failure),
      ...options,
      report,
    },
    io,
  );
  return { result, lines: reportLines(report), stdout: out.join(""), stderr: err.join(""), report, retried };
}

/** The ids of the lines, in id order (a page's lines come as each identity is done: those without a write first). */
const idsOf = (lines: readonly ReportLine[]) => lines.map((l) => l.id).sort();
const byId = (lines: readonly ReportLine[]) => [...lines].sort((a, b) => (a.id < b.id ? -1 : 1));
const statuses = (lines: readonly ReportLine[]) => Object.fromEntries(lines.map((l) => [l.id, l.status]));
const countsOf = (lines: readonly ReportLine[]) => {
  const counts = new Map<string, number>();
  for (const line of lines) counts.set(line.status, (counts.get(line.status) ?? 0) + 1);
  return counts;
};
const patchCalls = (fake: FakeKratos) => fake.calls.filter((c) => c.method === "patch");

describe("runBackfill: a run does what the plan says and nothing else", () => {
  it("each identity gets one line with its status; what changes is written once, the rest is left as it was", async () => {
    const cases = population();
    const fake = new FakeKratos(cases.map((c) => c.seed));
    const before = fake.snapshot();
    const { result, lines, report } = await run(fake);

    expect(idsOf(lines)).toEqual(cases.map((c) => c.seed.id)); // once each
    expect(statuses(lines)).toEqual(Object.fromEntries(cases.map((c) => [c.seed.id, c.status])));
    for (const c of cases) {
      const now = fake.stored(c.seed.id) as FakeIdentity;
      expect({ id: c.seed.id, schema_id: now.schema_id, traits: now.traits }).toEqual({ id: c.seed.id, ...c.after });
      // Metadata is never touched by the default rules.
      expect([now.metadata_public, now.metadata_admin]).toEqual([c.seed.metadata_public, c.seed.metadata_admin]);
      if (c.status !== "updated") expect(now).toEqual(before.get(c.seed.id));
      expect([c.seed.id, fake.patchesOf(c.seed.id)]).toEqual([c.seed.id, c.status === "updated" ? 1 : 0]);
    }

    // The report says what changed, and why nothing did.
    const line = (n: number) => lines.find((l) => l.id === id(n));
    expect(line(1)).toEqual({
      id: id(1),
      status: "updated",
      changes: { "traits.phone": { from: "0176 5551 0001", to: "+4917655510001" }, schema_id: { from: "default", to: "phone" } },
    });
    expect(line(4)).toEqual({ id: id(4), status: "unchanged" });
    expect(line(6)).toMatchObject({ status: "invalid", key: "PHONE_INVALID", field: "traits.phone" });
    expect(line(7)).toEqual({ id: id(7), status: "denied", key: "EMAIL_DOMAIN_DISPOSABLE", field: "traits.email" });
    expect(line(10)).toEqual({ id: id(10), status: "collision", with: [id(11)], phones: ["+4917655560010"] });

    // A verified SMS address stays verified, on the number's new form; a password signs in with it.
    expect(fake.stored(id(5))?.verifiable_addresses).toEqual([
      { value: "+4917655550005", via: "sms", verified: true, status: "completed" },
    ]);
    expect(fake.stored(id(5))?.recovery_addresses).toEqual([{ value: "+4917655550005", via: "sms" }]);
    expect(fake.stored(id(8))?.credentials?.password.identifiers).toEqual(["+4917655510008"]);

    // The re-read before the writes: one request per batch, never for an identity that needs no write.
    const writes = cases.filter((c) => c.status === "updated").map((c) => c.seed.id);
    expect(fake.reread().sort()).toEqual([...writes].sort());
    const batches = fake.calls.filter((c) => c.method === "getMany");
    expect(batches.length).toBeLessThan(writes.length);
    for (const batch of batches) expect(batch.ids?.length).toBeLessThanOrEqual(4 * 3);

    expect(result).toMatchObject({ interrupted: false, exitCode: 1, checkpoint: `${report}.checkpoint` });
    expect(readCheckpoint(result.checkpoint)).toEqual({ version: 1, report, adminUrl: ADMIN_URL, dryRun: false, after: id(12) });
    expect(statSync(report).mode & 0o777).toBe(0o600);
  });

  it("exits 0 when every identity ends updated or unchanged, and a second run writes nothing", async () => {
    const cases = population().filter((c) => c.status === "updated" || c.status === "unchanged");
    const fake = new FakeKratos(cases.map((c) => c.seed));
    const first = await run(fake);
    expect(first.result.exitCode).toBe(0);
    const patches = fake.committed.length;
    expect(patches).toBe(cases.filter((c) => c.status === "updated").length);

    const second = await run(fake);
    expect(second.result.exitCode).toBe(0);
    expect(fake.committed).toHaveLength(patches);
    expect(new Set(second.lines.map((l) => l.status))).toEqual(new Set(["unchanged"]));
  });

  it("never drops a trait that holds data: reported failed (would_drop_traits), not written", async () => {
    const config = parseConfig(
      { normalizePhone: { defaultRegion: "DE" }, routeSchema: { rules: [{ when: {}, schema: "phone" }] } },
      "test",
    );
    const fake = new FakeKratos([identity(1, "default", { email: "a@example.org", phone: "0176 5551 0001" })]);
    const { lines, result } = await run(fake, { config });
    expect(lines).toEqual([{ id: id(1), status: "failed", reason: "would_drop_traits", traits: ["email"] }]);
    expect(patchCalls(fake)).toEqual([]);
    expect(result.exitCode).toBe(1);
  });
});

describe("runBackfill: collisions are never written", () => {
  /** Three identities with one number: typed twice, and already in E.164 (on the routed schema, so on its own it is unchanged). */
  const colliding = () => [
    identity(1, "default", { phone: "0176 5556 0001" }),
    identity(2, "default", { phone: "+49 176 5556 0001" }),
    identity(3, "phone", { phone: "+4917655560001" }),
    identity(4, "default", { phone: "0176 5551 0004" }),
  ];

  it.each([false, true])("dryRun %s: every member of the group is reported collision, none is read again or patched", async (dryRun) => {
    const fake = new FakeKratos(colliding());
    const before = fake.snapshot();
    const { lines, result } = await run(fake, { dryRun });
    expect(lines.slice(0, 3)).toEqual([
      { id: id(1), status: "collision", with: [id(2), id(3)], phones: ["+4917655560001"] },
      { id: id(2), status: "collision", with: [id(1), id(3)], phones: ["+4917655560001"] },
      { id: id(3), status: "collision", with: [id(1), id(2)], phones: ["+4917655560001"] },
    ]);
    expect(lines[3]).toMatchObject({ id: id(4), status: dryRun ? "would_update" : "updated" });
    for (const n of [1, 2, 3]) {
      expect(fake.patchesOf(id(n))).toBe(0);
      expect(fake.stored(id(n))).toEqual(before.get(id(n)));
      expect(fake.reread()).not.toContain(id(n));
    }
    expect(patchCalls(fake).map((c) => c.id)).toEqual(dryRun ? [] : [id(4)]);
    expect(result.counts.get("collision")).toBe(3);
    expect(result.exitCode).toBe(1);
  });

  it("two phone fields of one identity with one number are no collision; a number shared across fields of two identities is", async () => {
    const config = parseConfig({ normalizePhone: { defaultRegion: "DE", fields: ["phone", "backup"] } }, "test");
    const fake = new FakeKratos([
      identity(1, "phone", { phone: "0176 5556 0001", backup: "+49 176 5556 0001" }),
      identity(2, "phone", { phone: "0176 5551 0002" }),
      identity(3, "phone", { phone: "+4917655510003", backup: "0176 5551 0002" }),
    ]);
    const { lines } = await run(fake, { config });
    expect(statuses(lines)).toEqual({ [id(1)]: "updated", [id(2)]: "collision", [id(3)]: "collision" });
    expect(fake.committed.map((p) => p.id)).toEqual([id(1)]);
  });
});

describe("runBackfill: a dry run writes nothing", () => {
  it("no PATCH, no re-read, the store as it was; it reports what the real run then does", async () => {
    const cases = population();
    const fake = new FakeKratos(cases.map((c) => c.seed));
    const before = fake.snapshot();
    const dry = await run(fake, { dryRun: true });

    expect(patchCalls(fake)).toEqual([]);
    expect(fake.committed).toEqual([]);
    expect(fake.calls.filter((c) => c.method !== "list")).toEqual([]);
    expect(fake.snapshot()).toEqual(before);
    expect(statuses(dry.lines)).toEqual(
      Object.fromEntries(cases.map((c) => [c.seed.id, c.status === "updated" ? "would_update" : c.status])),
    );
    expect(dry.result.counts.get("would_update")).toBe(cases.filter((c) => c.status === "updated").length);
    expect(dry.result.counts.get("updated")).toBeUndefined();
    expect(readCheckpoint(dry.result.checkpoint)).toMatchObject({ dryRun: true, after: id(12) });
    expect(dry.stdout).toMatch(/^dry run against http:\/\/kratos\.test:4434: 12 identities, .* reported in /);

    // The real run does exactly what the dry run said, with the same details.
    const real = await run(fake);
    expect(byId(real.lines)).toEqual(byId(dry.lines).map((l) => (l.status === "would_update" ? { ...l, status: "updated" } : l)));
  });
});

describe("runBackfill: resume honours the report and the checkpoint", () => {
  it("an interrupted run, resumed: one line per identity over both runs, each written at most once, nothing done read again", async () => {
    const cases = population();
    const fake = new FakeKratos(cases.map((c) => c.seed));
    const controller = new AbortController();
    // SIGINT arrives as the fourth write (the first of the second page) is made: it finishes, no new one starts.
    fake.rule = (call) => {
      if (call.method === "patch" && fake.calls.filter((c) => c.method === "patch").length === 4) controller.abort();
      return "forward";
    };
    const first = await run(fake, { concurrency: 1 }, controller.signal);
    expect(first.result.interrupted).toBe(true);
    expect(first.result.exitCode).toBe(1);
    expect(first.stderr).toContain(`--resume ${first.result.checkpoint}`);
    const done = new Set(first.lines.map((l) => l.id));
    expect(done.size).toBe(first.lines.length);
    expect(done.size).toBeGreaterThan(0);
    expect(done.size).toBeLessThan(cases.length);
    const checkpoint = readCheckpoint(first.result.checkpoint);
    // Lines beyond the checkpoint's id: a page cut short. Only the report knows they are done.
    expect(first.lines.some((l) => checkpoint.after === null || l.id > checkpoint.after)).toBe(true);

    fake.rule = () => "forward";
    const callsBefore = fake.calls.length;
    const second = await run(fake, { report: checkpoint.report, resume: checkpoint });
    const resumedCalls = fake.calls.slice(callsBefore);
    for (const call of resumedCalls) {
      if (call.method === "list") continue;
      for (const reread of call.ids ?? [call.id]) expect(done.has(reread as string), `${call.method} ${reread}`).toBe(false);
    }

    expect(idsOf(second.lines)).toEqual(cases.map((c) => c.seed.id));
    expect(statuses(second.lines)).toEqual(Object.fromEntries(cases.map((c) => [c.seed.id, c.status])));
    for (const c of cases) {
      expect([c.seed.id, fake.patchesOf(c.seed.id)]).toEqual([c.seed.id, c.status === "updated" ? 1 : 0]);
      expect(fake.stored(c.seed.id)).toMatchObject(c.after);
    }
    // The counts are over the whole report, the first run's lines included.
    expect(second.result.counts).toEqual(countsOf(second.lines));
    expect(second.result).toMatchObject({ interrupted: false, exitCode: 1 });
    expect(readCheckpoint(second.result.checkpoint).after).toBe(id(12));
  });

  it("killed hard before its first checkpoint: the report alone says what is done, a failed line included", async () => {
    const cases = population();
    const fake = new FakeKratos(cases.map((c) => c.seed));
    // The first run (killed): ids 1 and 2 written and reported, id 3 reported failed (a 409),
    // id 5 written but killed before its line. Its checkpoint is the one written before any write.
    for (const n of [1, 2, 5]) {
      const c = cases[n - 1] as Case;
      fake.edit(c.seed.id, [
        { op: "replace", path: "/traits", value: c.after.traits },
        { op: "replace", path: "/schema_id", value: c.after.schema_id },
      ]);
    }
    const report = newReport();
    writeFileSync(
      report,
      [
        { id: id(1), status: "updated" },
        { id: id(2), status: "updated" },
        { id: id(3), status: "failed", reason: "conflict", http_status: 409 },
      ]
        .map((l) => `${JSON.stringify(l)}\n`)
        .join(""),
      { mode: 0o600 },
    );
    const checkpointPath = `${report}.checkpoint`;
    writeCheckpoint(checkpointPath, { version: 1, report, adminUrl: ADMIN_URL, dryRun: false, after: null });

    const { lines, result } = await run(fake, { report, resume: readCheckpoint(checkpointPath) });
    for (const n of [1, 2, 3]) {
      expect(fake.reread()).not.toContain(id(n));
      expect(fake.patchesOf(id(n))).toBe(0);
    }
    // The failed identity stays as it was, for a person to look at: a resume is no retry.
    expect(fake.stored(id(3))).toMatchObject({ schema_id: "default", traits: cases[2]?.seed.traits });
    const resumed = lines.slice(3);
    expect(idsOf(resumed)).toEqual(cases.slice(3).map((c) => c.seed.id));
    // The write that committed without its line is found done: unchanged, not written again.
    expect(resumed.find((l) => l.id === id(5))).toEqual({ id: id(5), status: "unchanged" });
    expect(fake.patchesOf(id(5))).toBe(0);
    // Counted over the whole report.
    expect(result.counts.get("failed")).toBe(1);
    expect(result.counts.get("updated")).toBe(2 + cases.slice(3).filter((c) => c.status === "updated" && c.seed.id !== id(5)).length);
    expect([...result.counts.values()].reduce((a, b) => a + b, 0)).toBe(cases.length);
  });

  // Found writing these tests: `Report.open` appends to a report whose last line a kill cut short
  // without ending that line first, so the resumed run's first line is glued onto the fragment and
  // lost to the next `readReport` (its identity would be done a second time on a second resume).
  it("a line cut short by a kill does not swallow the resumed run's first line", async () => {
    const cases = population();
    const fake = new FakeKratos(cases.map((c) => c.seed));
    const report = newReport();
    writeFileSync(report, `${JSON.stringify({ id: id(1), status: "unchanged" })}\n{"id":"${id(2)}","sta`, { mode: 0o600 });
    await runBackfill(
      {
        adminUrl: ADMIN_URL,
        admin: fake,
        config: CONFIG,
        dryRun: false,
        report,
        concurrency: 1,
        pageSize: 4,
        resume: { version: 1, report, adminUrl: ADMIN_URL, dryRun: false, after: null },
      },
      { out: () => {}, err: () => {}, isTTY: false, signal: new AbortController().signal },
    );
    expect(readReport(report).ids.size).toBe(cases.length);
  });

  it("a checkpoint's id is honoured: nothing up to it is read again, though the report has lost those lines", async () => {
    const cases = population();
    const fake = new FakeKratos(cases.map((c) => c.seed));
    const report = newReport();
    writeFileSync(report, "", { mode: 0o600 });
    const resume = { version: 1 as const, report, adminUrl: ADMIN_URL, dryRun: false, after: id(8) };
    const { lines } = await run(fake, { report, resume });
    expect(idsOf(lines)).toEqual([id(9), id(10), id(11), id(12)]);
    for (let n = 1; n <= 8; n++) expect(fake.patchesOf(id(n))).toBe(0);
    expect(fake.reread().every((reread) => reread > id(8))).toBe(true);
  });
});

describe("runBackfill: failures on the way to the admin API", () => {
  it("retries transient failures, recognises its own committed write, and reports every other failure with its reason", async () => {
    const cases = population().filter((c) => c.status === "updated");
    // Eleven more identities that need a write, one for each fault.
    const more = Array.from({ length: 11 }, (_, i) =>
      identity(20 + i, "default", { phone: `0176 5551 ${String(20 + i).padStart(4, "0")}` }),
    );
    const fake = new FakeKratos([...cases.map((c) => c.seed), ...more]);
    // One identity for each fault, in id order.
    const [transient, lost, exhausted, conflict, refused, deletedEarly, deletedLate, changed, changedWhileLost, throttled, lostGone] =
      more.map((s) => s.id) as [string, string, string, string, string, string, string, string, string, string, string];
    const firstReread = new Set<string>();
    let listed = 0;
    fake.rule = (call, store) => {
      if (call.method === "list" && listed++ === 0) return { status: 503 };
      if (call.method === "getMany") {
        const first = (target: string) => call.ids?.includes(target) === true && !firstReread.has(target);
        if (first(deletedEarly)) {
          firstReread.add(deletedEarly);
          store.delete(deletedEarly);
        }
        if (first(changed)) {
          firstReread.add(changed);
          store.edit(changed, [{ op: "replace", path: "/traits/phone", value: "+49 176 9999 0000" }]);
        }
        if (first(throttled)) {
          firstReread.add(throttled);
          return { status: 429 };
        }
      }
      if (call.method === "patch") {
        if (call.id === transient && call.count === 1) return { status: 503 };
        if (call.id === lost && call.count === 1) return "lose-answer";
        if (call.id === exhausted) return { status: 503 };
        if (call.id === conflict) return { status: 409, reason: "conflict" };
        if (call.id === refused) return { status: 400, reason: "injected refusal" };
        if (call.id === deletedLate) {
          store.delete(call.id);
          return { status: 404 };
        }
        if (call.id === changedWhileLost && call.count === 1) {
          store.edit(call.id, [{ op: "replace", path: "/traits/phone", value: "+49 176 9999 0001" }]);
          return { status: 502 };
        }
        if (call.id === lostGone && call.count === 1) {
          store.delete(call.id);
          return { status: 502 };
        }
      }
      return "forward";
    };
    const { lines, result, retried } = await run(fake);
    const line = (target: string) => lines.find((l) => l.id === target);

    expect(line(transient)).toMatchObject({ status: "updated", attempts: 2 });
    expect(line(transient)).not.toHaveProperty("committed_before_answer");
    expect(line(lost)).toMatchObject({ status: "updated", attempts: 1, committed_before_answer: true });
    expect(line(exhausted)).toMatchObject({ status: "failed", reason: "retries_exhausted", http_status: 503 });
    expect(line(conflict)).toEqual({ id: conflict, status: "failed", reason: "conflict", http_status: 409, detail: "conflict" });
    expect(line(refused)).toEqual({ id: refused, status: "failed", reason: "refused", http_status: 400, detail: "injected refusal" });
    expect(line(deletedEarly)).toEqual({ id: deletedEarly, status: "failed", reason: "deleted" });
    expect(line(deletedLate)).toMatchObject({ status: "failed", reason: "deleted", http_status: 404 });
    expect(line(changed)).toEqual({ id: changed, status: "failed", reason: "changed_concurrently" });
    expect(line(changedWhileLost)).toEqual({ id: changedWhileLost, status: "failed", reason: "changed_concurrently" });
    expect(line(throttled)).toMatchObject({ status: "updated" });
    expect(line(lostGone)).toMatchObject({ status: "failed", reason: "read_failed", http_status: 404 });

    const patchesTo = (target: string) => patchCalls(fake).filter((c) => c.id === target).length;
    expect(patchesTo(exhausted)).toBe(RETRIES.attempts);
    expect([patchesTo(conflict), patchesTo(refused), patchesTo(deletedLate), patchesTo(changed)]).toEqual([1, 1, 1, 0]);
    // Written once each, whatever the faults; the concurrent changes stand.
    expect([fake.patchesOf(transient), fake.patchesOf(lost), fake.patchesOf(changedWhileLost)]).toEqual([1, 1, 0]);
    expect(fake.stored(changed)?.traits).toEqual({ phone: "+49 176 9999 0000" });
    expect(fake.stored(changedWhileLost)?.traits).toEqual({ phone: "+49 176 9999 0001" });
    // The run told of each PATCH it retried (the admin API tells of its own retried reads).
    expect(retried.map((f) => f.status).sort()).toEqual([502, 502, 502, 503, 503, 503]);

    // Every other identity was done.
    for (const c of cases) expect([c.seed.id, line(c.seed.id)?.status]).toEqual([c.seed.id, "updated"]);
    expect(fake.stored(throttled)?.traits).toEqual({ phone: "+4917655510029" });
    expect(lines).toHaveLength(cases.length + more.length);
    expect(result.counts.get("failed")).toBe(8);
    expect(result.exitCode).toBe(1);
  });
});

describe("runBackfill: the summary", () => {
  it("counts each status over the report, names it, and says what was done", async () => {
    const cases = population();
    const fake = new FakeKratos(cases.map((c) => c.seed));
    const { result, lines, stdout, report } = await run(fake);
    expect(result.counts).toEqual(countsOf(lines));
    expect(Object.fromEntries(result.counts)).toEqual({ updated: 7, unchanged: 1, invalid: 1, denied: 1, collision: 2 });
    expect(stdout).toMatch(/^backfill against http:\/\/kratos\.test:4434: 12 identities, scanned in \d+\.\d s, written in \d+\.\d s\n/);
    expect(stdout).toContain(
      [
        "  status     count",
        "  updated        7",
        "  unchanged      1",
        "  invalid        1",
        "  collision      2",
        "  denied         1",
        "  total         12",
        `report: ${report} (one line per identity; it holds personal data, so it is readable by its owner only: mode 0600)`,
      ].join("\n"),
    );
    // Counts only: no number or email reaches the output.
    for (const c of cases) for (const value of Object.values(c.seed.traits)) expect(stdout).not.toContain(String(value));
  });

  it("refuses to overwrite another run's report, before anything is written", async () => {
    const fake = new FakeKratos(population().map((c) => c.seed));
    const report = newReport();
    writeFileSync(report, '{"id":"x","status":"updated"}\n');
    await expect(run(fake, { report })).rejects.toThrow(/exists: resume the run that wrote it/);
    expect(patchCalls(fake)).toEqual([]);
  });
});
