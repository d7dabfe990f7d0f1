import { describe, expect, it } from "vitest";
import type { StoredIdentity } from "../../src/backfill/plan.js";
import { type Collision, type Entry, needsWrite, PhoneOwners, planContext, remaining, scan, scannedLine } from "../../src/backfill/scan.js";
import { pool } from "../../src/backfill/writer.js";
import { parseConfig } from "../../src/config/parse.js";

// The scan's pure parts, on plain data: planning each listed identity, the collision index, the
// resume filter and the lines decided without a write. `runBackfill` as a whole: run.test.ts.

const CONTEXT = planContext(parseConfig({ normalizePhone: { defaultRegion: "DE" } }, "test"), undefined);

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const identity = (n: number, schema_id: string, traits: Record<string, unknown>): StoredIdentity => ({
  id: id(n),
  schema_id,
  traits: traits as StoredIdentity["traits"],
});

async function* pagesOf(...pages: StoredIdentity[][]): AsyncIterable<StoredIdentity[]> {
  yield* pages;
}

const entry = (n: number, kind: Entry["kind"] = "change"): Entry => ({ id: id(n), kind, detail: undefined, listed: [null] });

describe("PhoneOwners", () => {
  it("indexes every identity that shares a number with another, and only those", () => {
    const owners = new PhoneOwners();
    owners.add("a", ["+4917600000001", "+4917600000002"]);
    owners.add("b", ["+4917600000001"]);
    owners.add("c", ["+4917600000002"]);
    owners.add("d", ["+4917600000003"]);
    owners.add("e", []);
    const collisions = owners.collisions();
    expect([...collisions.keys()].sort()).toEqual(["a", "b", "c"]);
    expect(collisions.get("a")).toEqual({ with: new Set(["b", "c"]), phones: ["+4917600000001", "+4917600000002"] });
    expect(collisions.get("b")).toEqual({ with: new Set(["a"]), phones: ["+4917600000001"] });
    expect(collisions.get("c")).toEqual({ with: new Set(["a"]), phones: ["+4917600000002"] });
  });

  it("groups three owners of one number into one collision for each", () => {
    const owners = new PhoneOwners();
    for (const name of ["x", "y", "z"]) owners.add(name, ["+4917600000009"]);
    expect(owners.collisions().get("y")?.with).toEqual(new Set(["x", "z"]));
  });
});

describe("scan", () => {
  const pages = () =>
    pagesOf(
      [identity(1, "default", { phone: "0176 5551 0001" }), identity(2, "phone", { phone: "+4917655540004" })],
      [identity(3, "default", { phone: "0176 5556 0010" }), identity(4, "default", { phone: "+49 176 5556 0010" })],
      [identity(5, "default", { phone: "0176 006" })],
    );

  it("plans every identity of every page, in listing order, and finds the number written two ways", async () => {
    const listed: number[] = [];
    const result = await scan(pages(), CONTEXT, false, (n) => listed.push(n));
    expect(result.stopped).toBe(false);
    expect(listed).toEqual([2, 4, 5]);
    expect(result.entries.map((e) => [e.id, e.kind])).toEqual([
      [id(1), "change"],
      [id(2), "unchanged"],
      [id(3), "change"],
      [id(4), "change"],
      [id(5), "invalid"],
    ]);
    expect([...result.collisions.keys()]).toEqual([id(3), id(4)]);
    expect(result.collisions.get(id(3))).toEqual({ with: new Set([id(4)]), phones: ["+4917655560010"] });
  });

  it("keeps a change's phones as listed; its detail only on a dry run (a real run decides it again from the re-read)", async () => {
    const real = await scan(pages(), CONTEXT, false);
    expect(real.entries[0]).toEqual({ id: id(1), kind: "change", detail: undefined, listed: ["0176 5551 0001"] });
    const dry = await scan(pages(), CONTEXT, true);
    expect(JSON.parse(dry.entries[0]?.detail ?? "null")).toMatchObject({
      changes: { "traits.phone": { from: "0176 5551 0001", to: "+4917655510001" } },
    });
    expect(JSON.parse(dry.entries[4]?.detail ?? "null")).toMatchObject({ field: "traits.phone", value: "0176 006" });
  });

  it("stops at a page boundary when told, with no collision index", async () => {
    const result = await scan(pages(), CONTEXT, false, undefined, () => true);
    expect(result).toMatchObject({ stopped: true, collisions: new Map() });
    expect(result.entries.map((e) => e.id)).toEqual([id(1), id(2)]);
  });
});

describe("remaining (the resume filter)", () => {
  const entries = [1, 2, 3, 4, 5].map((n) => entry(n));

  it("is every entry on a first run", () => {
    expect(remaining(entries, new Set(), null)).toEqual(entries);
  });

  it("leaves out every id up to the checkpoint's and every id the report has a line for", () => {
    expect(remaining(entries, new Set([id(4)]), id(2)).map((e) => e.id)).toEqual([id(3), id(5)]);
  });
});

describe("the lines the scan decides", () => {
  const collisions = new Map<string, Collision>([[id(2), { with: new Set([id(9), id(3)]), phones: ["+4917600000002"] }]]);

  it("writes a change on a real run only, and never one in a collision", () => {
    expect(needsWrite(entry(1), collisions, false)).toBe(true);
    expect(needsWrite(entry(1), collisions, true)).toBe(false);
    expect(needsWrite(entry(2), collisions, false)).toBe(false);
    expect(needsWrite(entry(1, "unchanged"), collisions, false)).toBe(false);
  });

  it("reports a collision with the others, sorted, and the numbers", () => {
    expect(scannedLine(entry(2), collisions, false)).toEqual({
      id: id(2),
      status: "collision",
      with: [id(3), id(9)],
      phones: ["+4917600000002"],
    });
  });

  it("reports the status of the plan and its detail otherwise", () => {
    expect(scannedLine({ ...entry(1), detail: JSON.stringify({ changes: {} }) }, collisions, true)).toEqual({
      id: id(1),
      status: "would_update",
      changes: {},
    });
    expect(scannedLine({ id: id(5), kind: "drops", detail: '{"reason":"would_drop_traits"}' }, collisions, false)).toEqual({
      id: id(5),
      status: "failed",
      reason: "would_drop_traits",
    });
  });
});

describe("pool", () => {
  it("runs at most `limit` at once and takes no new item once stopped", async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    const started = await pool(
      [1, 2, 3, 4, 5, 6],
      2,
      () => done.length >= 3,
      async (n) => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 1));
        running--;
        done.push(n);
      },
    );
    expect(most).toBe(2);
    expect(started).toBeLessThan(6);
    expect(done.length).toBe(started);
  });
});
