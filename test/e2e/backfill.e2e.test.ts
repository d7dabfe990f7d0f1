import { statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { createAll, type Seed, seeds } from "./backfill-seed.js";
import { backfill, countsOf, dump, reportLines, secretsOf } from "./backfill-support.js";
import { FaultProxy } from "./fault-proxy.js";
import { useStack } from "./stack.js";

// `kratos-hooks backfill` against real Kratos v1.3.1 and its admin API, on 1,000 identities as a
// team that adopted the hooks late has them (test/e2e/backfill-seed.ts), through a proxy that only
// counts what reaches Kratos.
const e2e = useStack();
const SEEDS: Seed[] = seeds(1000);
let ids: string[] = [];
let before: Map<string, Record<string, unknown>>;
let proxy: FaultProxy;
const outputs: string[] = [];

beforeAll(async () => {
  ids = await createAll(e2e.kratos.admin, SEEDS);
  before = await dump(e2e.kratos.admin);
  proxy = await FaultProxy.start(e2e.stack.kratosAdmin);
  return () => proxy.close();
}, 120_000);

async function run(...args: string[]) {
  const proc = backfill(["--admin-url", proxy.url, "--region", "DE", ...args]);
  const code = await proc.exit;
  outputs.push(proc.stdout(), proc.stderr());
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

const byId = (lines: { id: string; status: string }[]) => new Map(lines.map((l) => [l.id, l.status]));

describe("backfill against real Kratos v1.3.1 (1,000 identities)", () => {
  let dryStatuses: Map<string, string>;

  it("seeded what the test expects", () => {
    expect(ids).toHaveLength(1000);
    expect(before.size).toBe(1000);
  });

  it("a dry run writes nothing, and reports every identity once", async () => {
    const report = join(process.env.TMPDIR ?? "/tmp", `dry-${process.pid}.jsonl`);
    const seenBefore = proxy.seen.length;
    const { code, stdout } = await run("--dry-run", "--report", report);
    expect(code).toBe(1); // collisions, invalid numbers and a disposable domain are there to be found
    expect(proxy.seen.slice(seenBefore).filter((s) => s.method !== "GET")).toEqual([]);
    expect(await dump(e2e.kratos.admin)).toEqual(before);
    const lines = reportLines(report);
    expect(lines).toHaveLength(1000);
    expect(new Set(lines.map((l) => l.id)).size).toBe(1000);
    dryStatuses = byId(lines);
    expect(statSync(report).mode & 0o777).toBe(0o600);
    expect(stdout).toMatch(/would_update\s+\d/);
  });

  it("the real run does what the dry run said, and leaves each identity as the hook would have made it", async () => {
    const report = join(process.env.TMPDIR ?? "/tmp", `real-${process.pid}.jsonl`);
    const { code } = await run("--report", report);
    expect(code).toBe(1);
    const lines = reportLines(report);
    expect(lines).toHaveLength(1000);
    // The dry run predicted every identity's status exactly (would_update is updated).
    const real = byId(lines);
    for (const [id, status] of dryStatuses) expect([id, real.get(id)]).toEqual([id, status === "would_update" ? "updated" : status]);
    expect(countsOf(lines)).toEqual(
      Object.fromEntries(
        Object.entries(
          countsOf([...dryStatuses].map(([id, status]) => ({ id, status: status === "would_update" ? "updated" : status })) as never),
        ),
      ),
    );

    const after = await dump(e2e.kratos.admin);
    SEEDS.forEach((seed, i) => {
      const id = ids[i] as string;
      const was = before.get(id) as Record<string, unknown>;
      const now = after.get(id) as Record<string, unknown>;
      expect({ id, status: real.get(id) }).toEqual({ id, status: seed.expected.status });
      expect({ id, schema_id: now.schema_id, traits: now.traits }).toEqual({
        id,
        schema_id: seed.expected.schema_id,
        traits: seed.expected.traits,
      });
      // Metadata is never touched by the default rules.
      expect({ id, public: now.metadata_public, admin: now.metadata_admin }).toEqual({
        id,
        public: was.metadata_public,
        admin: was.metadata_admin,
      });
    });
    // No identity was written twice (a PATCH Kratos refused for SQLite's lock contention, then
    // retried, is one write).
    expect(Math.max(...proxy.patchesCommitted().values())).toBe(1);
    expect(proxy.patchesCommitted().size).toBe(lines.filter((l) => l.status === "updated").length);
  });

  it("a verified SMS address stays verified, on the number's new form", async () => {
    const after = await dump(e2e.kratos.admin);
    const verified = SEEDS.flatMap((seed, i) =>
      seed.create.verifiable_addresses === undefined ? [] : [[ids[i] as string, seed] as const],
    );
    expect(verified.length).toBeGreaterThan(40);
    for (const [id, seed] of verified) {
      const addresses = (after.get(id) as { verifiable_addresses: { value: string; via: string; verified: boolean; status: string }[] })
        .verifiable_addresses;
      expect(addresses).toEqual([
        expect.objectContaining({ value: seed.expected.traits.phone, via: "sms", verified: true, status: "completed" }),
      ]);
    }
  });

  it("an identity seeded with a password signs in with its E.164 number", async () => {
    const withPassword = SEEDS.filter((seed) => seed.password !== undefined).slice(0, 3);
    expect(withPassword).toHaveLength(3);
    for (const seed of withPassword) {
      const res = await e2e.kratos.run("login", { method: "password", identifier: seed.expected.traits.phone, password: seed.password });
      expect(res.status).toBe(200);
      // And no longer with the form it was stored in.
      const typed = (seed.create.traits as Record<string, string>).phone;
      const old = await e2e.kratos.run("login", { method: "password", identifier: typed, password: seed.password });
      expect(old.status).toBe(400);
    }
  });

  it("a second run writes nothing", async () => {
    const patches = proxy.seen.filter((s) => s.method === "PATCH").length;
    const report = join(process.env.TMPDIR ?? "/tmp", `again-${process.pid}.jsonl`);
    await run("--report", report);
    expect(proxy.seen.filter((s) => s.method === "PATCH").length).toBe(patches);
    expect(countsOf(reportLines(report)).updated).toBeUndefined();
  });

  it("no number, email, password or hash reached the command's output", () => {
    const output = outputs.join("\n");
    expect(output.length).toBeGreaterThan(100);
    for (const secret of secretsOf(SEEDS)) expect(output, `output holds ${secret}`).not.toContain(secret);
    expect(output).not.toMatch(/\$2[aby]\$/);
  });
});
