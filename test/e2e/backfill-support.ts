import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { IdentityApi } from "@ory/client";
import { nextPageToken } from "../../src/backfill/admin.js";
import type { ReportLine } from "../../src/backfill/report.js";
import { type Captured, spawnNode } from "../support/spawn.js";
import type { Seed } from "./backfill-seed.js";

const BIN = fileURLToPath(new URL("../../dist/src/cli/bin.js", import.meta.url));

/** `kratos-hooks backfill …` as a real process (what an operator runs), in a fresh working directory. */
export function backfill(args: string[], env: Record<string, string> = {}): Captured {
  return spawnNode([BIN, "backfill", ...args], { cwd: mkdtempSync(join(tmpdir(), "kratos-hooks-backfill-")), env });
}

/** A report file, a line each. */
export function reportLines(file: string): ReportLine[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ReportLine);
}

export function countsOf(lines: readonly ReportLine[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) counts[line.status] = (counts[line.status] ?? 0) + 1;
  return counts;
}

/** Every identity as the admin API shows it, metadata_admin included, by id: the before and after of a run. */
export async function dump(admin: IdentityApi): Promise<Map<string, Record<string, unknown>>> {
  const all = new Map<string, Record<string, unknown>>();
  let pageToken: string | undefined;
  for (;;) {
    const res = await admin.listIdentities({ pageSize: 500, ...(pageToken !== undefined && { pageToken }) });
    for (const identity of res.data) all.set(identity.id, identity as unknown as Record<string, unknown>);
    pageToken = nextPageToken(res.headers.link as string | undefined);
    if (pageToken === undefined || res.data.length === 0) return all;
  }
}

/** Every value in the seeds that must never reach the command's output: numbers typed and E.164, emails, passwords. */
export function secretsOf(list: readonly Seed[]): string[] {
  const values = list.flatMap((seed) => [
    ...Object.values(seed.create.traits as Record<string, string>),
    ...Object.values(seed.expected.traits),
    ...(seed.password === undefined ? [] : [seed.password]),
  ]);
  return [...new Set(values)].filter((v) => v.length >= 6);
}
