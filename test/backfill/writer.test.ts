import { describe, expect, it } from "vitest";
import type { RetryOptions } from "../../src/backfill/admin.js";
import type { ReportLine } from "../../src/backfill/report.js";
import { type Entry, planContext } from "../../src/backfill/scan.js";
import { rereader, type WriterOptions, writeOne, writePage } from "../../src/backfill/writer.js";
import { parseConfig } from "../../src/config/parse.js";
import { type FakeIdentity, FakeKratos } from "../support/fake-admin.js";

// The writer on its own, against the fake admin API: the batched re-read, the PATCH with its
// retries, and the read-back of a write whose answer was lost.

const CONTEXT = planContext(parseConfig({ normalizePhone: { defaultRegion: "DE" } }, "test"), undefined);
const RETRIES: RetryOptions = { attempts: 3, contentionAttempts: 5, contentionBackoffMs: 1, backoffMs: 1 };

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const phone = (n: number) => `0176 5551 ${String(n).padStart(4, "0")}`;
const seed = (n: number): FakeIdentity => ({
  id: id(n),
  schema_id: "default",
  traits: { phone: phone(n) },
  metadata_public: null,
  metadata_admin: null,
});
/** The entry the scan makes of `seed(n)`: a change, its phone as listed. */
const entry = (n: number): Entry => ({ id: id(n), kind: "change", detail: undefined, listed: [phone(n)] });

const options = (fake: FakeKratos, concurrency = 2): WriterOptions => ({ admin: fake, context: CONTEXT, concurrency, retries: RETRIES });

describe("rereader", () => {
  it("reads the next batch in one request when its first is due, and each identity once", async () => {
    const fake = new FakeKratos([1, 2, 3, 4, 5].map(seed));
    const pending = [1, 2, 3, 4, 5].map(entry);
    const freshFor = rereader(fake, pending, 2);
    for (let index = 0; index < pending.length; index++) {
      const read = await freshFor(index);
      expect(read instanceof Map && read.has(id(index + 1))).toBe(true);
    }
    expect(fake.calls.filter((c) => c.method === "getMany").map((c) => c.ids)).toEqual([[id(1), id(2)], [id(3), id(4)], [id(5)]]);
  });
});

describe("writeOne", () => {
  it("writes the E.164 form and reports the change", async () => {
    const fake = new FakeKratos([seed(1)]);
    const line = await writeOne(entry(1), await fake.getMany([id(1)]), options(fake));
    expect(line).toMatchObject({ id: id(1), status: "updated", changes: { "traits.phone": { from: phone(1), to: "+4917655510001" } } });
    expect(fake.stored(id(1))?.traits).toMatchObject({ phone: "+4917655510001" });
  });

  it("does not write an identity whose phone changed since the scan, or one deleted", async () => {
    const fake = new FakeKratos([seed(1)]);
    fake.edit(id(1), [{ op: "replace", path: "/traits/phone", value: "0176 5559 9999" }]);
    expect(await writeOne(entry(1), await fake.getMany([id(1)]), options(fake))).toEqual({
      id: id(1),
      status: "failed",
      reason: "changed_concurrently",
    });
    expect(await writeOne(entry(2), new Map(), options(fake))).toEqual({ id: id(2), status: "failed", reason: "deleted" });
    expect(fake.committed).toEqual([]);
  });

  it("reads back a write whose answer was lost, and does not write it twice", async () => {
    const fake = new FakeKratos([seed(1)]);
    fake.rule = (call) => (call.method === "patch" && call.count === 1 ? "lose-answer" : "forward");
    const line = await writeOne(entry(1), await fake.getMany([id(1)]), options(fake));
    expect(line).toMatchObject({ status: "updated", attempts: 1, committed_before_answer: true });
    expect(fake.patchesOf(id(1))).toBe(1);
  });

  it("retries a 503 and gives up after the attempts allowed", async () => {
    const fake = new FakeKratos([seed(1)]);
    fake.rule = (call) => (call.method === "patch" ? { status: 503 } : "forward");
    const retried: number[] = [];
    const line = await writeOne(entry(1), await fake.getMany([id(1)]), {
      ...options(fake),
      onRetry: (failure) => retried.push(failure.status ?? 0),
    });
    expect(line).toMatchObject({ status: "failed", reason: "retries_exhausted", http_status: 503 });
    expect(retried).toEqual([503, 503]);
  });
});

describe("writePage", () => {
  it("writes every identity of the page and records each once", async () => {
    const fake = new FakeKratos([1, 2, 3, 4, 5].map(seed));
    const lines: ReportLine[] = [];
    const started = await writePage(
      [1, 2, 3, 4, 5].map(entry),
      options(fake, 2),
      () => false,
      (line) => lines.push(line),
    );
    expect(started).toBe(5);
    expect(lines.map((l) => l.id).sort()).toEqual([1, 2, 3, 4, 5].map(id));
    expect(lines.every((l) => l.status === "updated")).toBe(true);
  });
});
