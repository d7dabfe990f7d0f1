import { randomUUID } from "node:crypto";
import type { CreateIdentityBody, IdentityApi } from "@ory/client";

/** What the backfill (with `--region DE`, the default config) must make of a seeded identity. */
export interface Expected {
  status: "updated" | "unchanged" | "invalid" | "collision" | "denied";
  schema_id: string;
  traits: Record<string, string>;
}

export interface Seed {
  create: CreateIdentityBody;
  expected: Expected;
  /** The password, for the identities seeded with one (login after the backfill). */
  password?: string;
}

/** A German mobile number, unique per `n`, in the way a person once typed it, and as E.164. */
function typedMobile(block: string, n: number, style: number): { typed: string; e164: string } {
  // Four digits of `n` in the tail, the rest moves the block (a German mobile has 7 digits after 0176).
  const tail = String(n % 10_000).padStart(4, "0");
  block = String(Number(block) + 100 * Math.floor(n / 10_000));
  const e164 = `+49176${block}${tail}`;
  const typed = [
    `0176 ${block} ${tail}`,
    `0176-${block}-${tail}`,
    `(0176) ${block}${tail}`,
    `+49 176 ${block} ${tail}`,
    `0049 176 ${block}${tail}`,
    `+49 (0)176 ${block} ${tail}`,
    `+49 (176) ${block}-${tail}`,
    `0176/${block}${tail}`,
  ][style % 8] as string;
  return { typed, e164 };
}

/**
 * Identities as a team that adopted the hooks late has them: phones as people typed them on the
 * entry schema, email-only and mixed accounts, numbers already in E.164, verified SMS addresses
 * typed with spaces, the same number written two ways (collisions), numbers that are no number,
 * a disposable domain, metadata, and a few passwords. Deterministic for a given `count`.
 */
export function seeds(count: number, passwords = 10, series = 0): Seed[] {
  const out: Seed[] = [];
  // Each series has number blocks of its own, so series seeded into one Kratos never collide.
  const mobile = (block: string, n: number, style: number) => typedMobile(String(Number(block) + 10 * series), n, style);
  for (let i = 0; out.length < count; i++) {
    const kind = i % 20;
    if (kind <= 7) {
      // A phone as typed, on the entry schema: E.164 on `phone`.
      const { typed, e164 } = mobile("5551", i, i);
      const seed: Seed = {
        create: { schema_id: "default", traits: { phone: typed } },
        expected: { status: "updated", schema_id: "phone", traits: { phone: e164 } },
      };
      if (out.filter((s) => s.password !== undefined).length < passwords) {
        seed.password = `backfill password ${i} ${randomUUID()}`;
        seed.create.credentials = { password: { config: { password: seed.password } } };
      }
      out.push(seed);
    } else if (kind <= 10) {
      // Email only, on the entry schema: moved to `email`, traits as they were.
      const email = `person${i}.${series}@example.org`;
      out.push({
        create: { schema_id: "default", traits: { email } },
        expected: { status: "updated", schema_id: "email", traits: { email } },
      });
    } else if (kind === 11) {
      // Email and phone: `email`, the phone in E.164.
      const email = `both${i}.${series}@example.org`;
      const { typed, e164 } = mobile("5553", i, i + 1);
      out.push({
        create: { schema_id: "default", traits: { email, phone: typed } },
        expected: { status: "updated", schema_id: "email", traits: { email, phone: e164 } },
      });
    } else if (kind === 12) {
      // Already done: nothing to write.
      const { e164 } = mobile("5554", i, 0);
      out.push({
        create: { schema_id: "phone", traits: { phone: e164 } },
        expected: { status: "unchanged", schema_id: "phone", traits: { phone: e164 } },
      });
    } else if (kind === 13) {
      // On `phone` already, typed with spaces (Kratos's format tel takes it), its SMS address verified.
      const { e164 } = mobile("5555", i, 0);
      const typed = `+49 176 ${e164.slice(6, 10)} ${e164.slice(-4)}`;
      out.push({
        create: {
          schema_id: "phone",
          traits: { phone: typed },
          verifiable_addresses: [{ value: typed, via: "sms", verified: true, status: "completed" }],
          metadata_public: { plan: "gold", n: i },
          metadata_admin: { note: `seeded ${i}` },
        },
        expected: { status: "updated", schema_id: "phone", traits: { phone: e164 } },
      });
    } else if (kind === 14) {
      // The same number twice, written two ways: neither is written.
      const a = mobile("5556", i, 0);
      const b = mobile("5556", i, 3);
      out.push({
        create: { schema_id: "default", traits: { phone: a.typed } },
        expected: { status: "collision", schema_id: "default", traits: { phone: a.typed } },
      });
      out.push({
        create: { schema_id: "default", traits: { phone: b.typed } },
        expected: { status: "collision", schema_id: "default", traits: { phone: b.typed } },
      });
    } else if (kind === 15) {
      // No number at all.
      const typed = `0176 ${String(i).padStart(3, "0")}${series > 0 ? ` ${series}` : ""}`;
      out.push({
        create: { schema_id: "default", traits: { phone: typed } },
        expected: { status: "invalid", schema_id: "default", traits: { phone: typed } },
      });
    } else if (kind === 16) {
      // A disposable domain: reported, never deleted.
      const email = `throwaway${i}.${series}@mailinator.com`;
      out.push({
        create: { schema_id: "default", traits: { email } },
        expected: { status: "denied", schema_id: "default", traits: { email } },
      });
    } else {
      // Metadata a routing rule does not touch, on a typed phone.
      const { typed, e164 } = mobile("5557", i, i);
      out.push({
        create: { schema_id: "default", traits: { phone: typed }, metadata_public: { tier: i % 3 }, metadata_admin: { crm: `c-${i}` } },
        expected: { status: "updated", schema_id: "phone", traits: { phone: e164 } },
      });
    }
  }
  return out.slice(0, count);
}

/** Creates the identities through the admin API, up to 500 per batch (Kratos v1.3.1 allows 2,000). Returns their ids in seed order. */
export async function createAll(admin: IdentityApi, list: readonly Seed[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < list.length; start += 500) {
    const batch = list.slice(start, start + 500);
    const res = await admin.batchPatchIdentities({
      patchIdentitiesBody: { identities: batch.map((seed) => ({ create: seed.create, patch_id: randomUUID() })) },
    });
    for (const [i, result] of (res.data.identities ?? []).entries()) {
      if (result.action !== "create" || result.identity === undefined)
        throw new Error(`seed ${start + i} was not created: ${JSON.stringify(result)}`);
      ids.push(result.identity);
    }
  }
  return ids;
}
