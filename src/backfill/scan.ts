import type { CountryCode } from "libphonenumber-js/max";
import type { Config } from "../config/schema.js";
import { getPath } from "../core/json.js";
import { type ResolvedRegion, resolvePhoneRegion } from "../core/phone-region.js";
import { createPolicies } from "../core/policies/index.js";
import type { Policy } from "../core/policy.js";
import { type Plan, phonesOf, planIdentity, type StoredIdentity, storedPhones } from "./plan.js";
import type { ReportLine, Status } from "./report.js";

/** What a run decides with: the registration-after policies, the phone fields and the region to read them in. */
export interface PlanContext {
  policies: readonly Policy[];
  /** The phone traits (none when `normalizePhone` is off). */
  fields: readonly string[];
  region: ResolvedRegion;
}

/** The plan context of a run: `--region` reads national numbers, in place of `normalizePhone.defaultRegion`. */
export function planContext(config: Config, region: CountryCode | undefined): PlanContext {
  const phoneConfig = { ...config.normalizePhone, defaultRegion: region ?? config.normalizePhone.defaultRegion };
  return {
    policies: createPolicies({ ...config, normalizePhone: phoneConfig }),
    fields: phoneConfig.enabled ? phoneConfig.fields : [],
    region: resolvePhoneRegion({}, phoneConfig),
  };
}

/**
 * What the scan keeps of each identity: enough to decide and report, never the whole identity
 * (the phones it groups by live in one map for all). Measured: a dry run over 100,000 identities
 * peaks at 261 MiB resident, against 79 MiB over none (`tsx test/bench/backfill.ts --memory 100000`).
 */
export interface Entry {
  id: string;
  kind: Plan["kind"];
  /** The report fields of its status, decided at the scan, as JSON (a real run's writes decide theirs again from the re-read). */
  detail: string | undefined;
  /** Its phone traits as listed (a change only): a write is skipped if they differ by then. */
  listed?: (string | null)[];
}

/** An identity in a collision: the identities it shares a number with, and the numbers. */
export interface Collision {
  with: Set<string>;
  phones: string[];
}

function asText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The report fields of a plan: what changes (before and after), or why nothing does. */
export function detailOf(identity: StoredIdentity, plan: Plan, phoneFields: readonly string[]): Record<string, unknown> {
  switch (plan.kind) {
    case "unchanged":
      return {};
    case "invalid":
      return {
        key: plan.key,
        field: plan.field,
        reason: plan.context.reason,
        // `field` is a dotted path into the identity document (`traits.phone`): read it there.
        value: asText(getPath({ traits: identity.traits }, plan.field)),
      };
    case "denied":
      return { key: plan.key, field: plan.field };
    case "drops":
      return { reason: "would_drop_traits", traits: plan.traits };
    case "change": {
      const changes: Record<string, unknown> = {};
      for (const field of phoneFields) {
        const from = getPath(identity.traits, field);
        const to = getPath(plan.result.traits, field);
        if (from !== to && to !== undefined) changes[`traits.${field}`] = { from, to };
      }
      if (plan.result.schemaId !== identity.schema_id) changes.schema_id = { from: identity.schema_id, to: plan.result.schemaId };
      if (plan.changed.includes("metadataPublic")) changes.metadata_public = { to: plan.result.metadataPublic };
      return { changes };
    }
  }
}

export function statusOf(kind: Plan["kind"], dryRun: boolean): Status {
  switch (kind) {
    case "unchanged":
      return "unchanged";
    case "invalid":
      return "invalid";
    case "denied":
      return "denied";
    case "drops":
      return "failed";
    case "change":
      return dryRun ? "would_update" : "updated";
  }
}

/** Groups identities by the E.164 form of their phones; a number with more than one identity is a collision. */
export class PhoneOwners {
  /** E.164 number → the identity that has it, or the identities, once there is more than one. */
  private readonly owners = new Map<string, string | string[]>();

  add(id: string, phones: readonly string[]): void {
    for (const phone of phones) {
      const ids = this.owners.get(phone);
      if (ids === undefined) this.owners.set(phone, id);
      else if (typeof ids === "string") this.owners.set(phone, [ids, id]);
      else ids.push(id);
    }
  }

  /** The collision index (identity → its collision), once every identity is in; frees the grouping. */
  collisions(): Map<string, Collision> {
    const collisions = new Map<string, Collision>();
    for (const [phone, ids] of this.owners) {
      if (typeof ids === "string") continue;
      for (const id of ids) {
        const entry = collisions.get(id) ?? { with: new Set<string>(), phones: [] };
        for (const other of ids) if (other !== id) entry.with.add(other);
        entry.phones.push(phone);
        collisions.set(id, entry);
      }
    }
    this.owners.clear();
    return collisions;
  }
}

/** Plans one listed identity: its entry, and the E.164 numbers it has (for the collision index). */
export async function scanIdentity(
  identity: StoredIdentity,
  context: PlanContext,
  dryRun: boolean,
): Promise<{ entry: Entry; phones: string[] }> {
  const plan = await planIdentity(identity, context.policies);
  const kept = plan.kind !== "change" || dryRun;
  return {
    entry: {
      id: identity.id,
      kind: plan.kind,
      detail: kept ? JSON.stringify(detailOf(identity, plan, context.fields)) : undefined,
      ...(plan.kind === "change" && { listed: storedPhones(identity, context.fields) }),
    },
    phones: phonesOf(identity, context.fields, context.region),
  };
}

export interface ScanResult {
  entries: Entry[];
  collisions: Map<string, Collision>;
  /** The scan stopped at a page boundary because `stop()` said so: the entries are incomplete. */
  stopped: boolean;
}

/**
 * The scan: every identity of every page planned, in listing order, and the collision index over
 * all of them. `onPage` is told the count listed so far after each page; `stop()` is asked then.
 * A page that fails to list throws what the pages throw.
 */
export async function scan(
  pages: AsyncIterable<readonly StoredIdentity[]>,
  context: PlanContext,
  dryRun: boolean,
  onPage: (listed: number) => void = () => {},
  stop: () => boolean = () => false,
): Promise<ScanResult> {
  const entries: Entry[] = [];
  const owners = new PhoneOwners();
  let listed = 0;
  for await (const page of pages) {
    for (const identity of page) {
      const { entry, phones } = await scanIdentity(identity, context, dryRun);
      owners.add(identity.id, phones);
      entries.push(entry);
    }
    listed += page.length;
    onPage(listed);
    if (stop()) return { entries, collisions: new Map(), stopped: true };
  }
  return { entries, collisions: owners.collisions(), stopped: false };
}

/** What is left to do on a resumed run: the entries past the checkpoint's id that the report has no line for. */
export function remaining(entries: readonly Entry[], done: ReadonlySet<string>, after: string | null): Entry[] {
  return entries.filter((e) => !done.has(e.id) && (after === null || e.id > after));
}

/** An identity that needs a write: a change, on a real run, not in a collision. */
export function needsWrite(entry: Entry, collisions: ReadonlyMap<string, Collision>, dryRun: boolean): boolean {
  return entry.kind === "change" && !dryRun && !collisions.has(entry.id);
}

/** The line of an identity that needs no write: decided by the scan. */
export function scannedLine(entry: Entry, collisions: ReadonlyMap<string, Collision>, dryRun: boolean): ReportLine {
  const collision = collisions.get(entry.id);
  if (collision !== undefined) return { id: entry.id, status: "collision", with: [...collision.with].sort(), phones: collision.phones };
  return {
    id: entry.id,
    status: statusOf(entry.kind, dryRun),
    ...(entry.detail === undefined ? {} : (JSON.parse(entry.detail) as object)),
  };
}
