import { appendFileSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classify, DEFAULT_RETRIES, mayRetry, nextPageToken } from "../../src/backfill/admin.js";
import { readCheckpoint, writeCheckpoint } from "../../src/backfill/checkpoint.js";
import { Report, readReport } from "../../src/backfill/report.js";

const answer = (status: number, reason?: string, headers: Record<string, string> = {}) => ({
  response: { status, headers, data: reason === undefined ? {} : { error: { code: status, reason, message: "m" } } },
});

describe("classify: what the backfill does about an admin API answer (contract §10)", () => {
  it.each<[string, unknown, object]>([
    ["409: conflict, never retried", answer(409, "exists"), { kind: "conflict", status: 409 }],
    ["404: the identity is gone", answer(404), { kind: "not_found" }],
    ["401 and 403: the token", answer(403), { kind: "unauthorized" }],
    ["429 with Retry-After", answer(429, undefined, { "retry-after": "2" }), { kind: "transient", retryAfter: 2 }],
    ["503", answer(503), { kind: "transient", status: 503 }],
    [
      "400 lock contention (SQLite)",
      answer(400, "Unable to serialize access due to a concurrent update in another session"),
      { kind: "transient", contention: true },
    ],
    [
      "400 otherwise: Kratos's reason",
      answer(400, "traits.phone: does not match format"),
      { kind: "bad_request", reason: "traits.phone: does not match format" },
    ],
    ["no answer", { code: "ECONNRESET" }, { kind: "unreachable", reason: "ECONNRESET" }],
  ])("%s", (_, error, expected) => {
    expect(classify(error)).toMatchObject(expected);
  });

  it("retries transient failures a bounded number of times, lock contention longer", () => {
    const busy = classify(answer(503));
    const locked = classify(answer(400, "concurrent update"));
    expect(mayRetry(busy, DEFAULT_RETRIES.attempts - 1, DEFAULT_RETRIES)).toBe(true);
    expect(mayRetry(busy, DEFAULT_RETRIES.attempts, DEFAULT_RETRIES)).toBe(false);
    expect(mayRetry(locked, DEFAULT_RETRIES.attempts, DEFAULT_RETRIES)).toBe(true);
    expect(mayRetry(locked, DEFAULT_RETRIES.contentionAttempts, DEFAULT_RETRIES)).toBe(false);
    expect(mayRetry(classify(answer(409)), 1, DEFAULT_RETRIES)).toBe(false);
  });
});

describe("nextPageToken: keyset pagination as Kratos links it", () => {
  it.each<[string | undefined, string | undefined]>([
    ['</admin/identities?page_size=500&page_token=>; rel="first",</admin/identities?page_size=500&page_token=abc-1>; rel="next"', "abc-1"],
    ['</admin/identities?page_token=x%2By&page_size=2>; rel="next"', "x+y"],
    ['</admin/identities?page_size=500&page_token=>; rel="first"', undefined],
    [undefined, undefined],
  ])("%s", (link, token) => {
    expect(nextPageToken(link)).toBe(token);
  });
});

describe("the report and the checkpoint", () => {
  const dir = () => mkdtempSync(join(tmpdir(), "kratos-hooks-report-"));

  it("the report is created readable by its owner only, and refuses to overwrite another run's", () => {
    const path = join(dir(), "r.jsonl");
    const report = Report.open(path, false);
    report.write({ id: "a", status: "updated" });
    report.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(() => Report.open(path, false)).toThrow(/exists: resume the run that wrote it/);
    const resumed = Report.open(path, true);
    resumed.write({ id: "b", status: "unchanged" });
    resumed.close();
    expect(readFileSync(path, "utf8")).toBe('{"id":"a","status":"updated"}\n{"id":"b","status":"unchanged"}\n');
  });

  it("reading it back skips a line a crash cut short", () => {
    const path = join(dir(), "r.jsonl");
    appendFileSync(path, '{"id":"a","status":"updated"}\n{"id":"b","status":"colli');
    const { ids, counts } = readReport(path);
    expect([...ids]).toEqual(["a"]);
    expect(counts.get("updated")).toBe(1);
  });

  it("a checkpoint round-trips, and anything else is refused", () => {
    const path = join(dir(), "r.jsonl.checkpoint");
    const checkpoint = { version: 1 as const, report: "/r.jsonl", adminUrl: "http://k:4434", dryRun: false, after: "id-5" };
    writeCheckpoint(path, checkpoint);
    expect(readCheckpoint(path)).toEqual(checkpoint);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    appendFileSync(path, "x");
    expect(() => readCheckpoint(path)).toThrow(/expected a checkpoint/);
  });
});
