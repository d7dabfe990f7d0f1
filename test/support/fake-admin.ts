// An in-memory stand-in for Kratos's admin identity API, as `src/backfill/run.ts` uses it through
// `AdminAPI` (src/backfill/admin.ts): keyset pages in id order, a read, a batch read (`?ids=`), and
// a JSON Patch of `replace` operations. Failures are injected per request and classified by the
// real `classify`; reads retry transient failures with the real `withRetries`, as the @ory/client
// adapter does, and a PATCH is tried once, as there.
import { type AdminAPI, AdminError, type AdminFailure, classify, type RetryOptions, withRetries } from "../../src/backfill/admin.js";
import type { PatchOp, StoredAddress, StoredIdentity } from "../../src/backfill/plan.js";
import type { JsonObject } from "../../src/core/decision.js";
import { isJsonObject } from "../../src/core/json.js";

/** An address as Kratos keeps it: the backfill reads `value` and `via`, Kratos also keeps whether it was verified. */
export interface FakeAddress extends StoredAddress {
  verified: boolean;
  status: string;
}

/** A stored identity with what Kratos keeps beside the part the backfill reads. */
export interface FakeIdentity extends StoredIdentity {
  metadata_admin?: JsonObject | null;
  verifiable_addresses?: FakeAddress[];
  /** Password identifiers, derived from the traits (Kratos: `credentials.password.identifier: true`). Never in an answer. */
  credentials?: { password: { identifiers: string[] } };
}

/** One request as it reached the fake. */
export interface Call {
  method: "list" | "get" | "getMany" | "patch";
  /** `get` and `patch`: the identity; `getMany`: the ids asked for; `list`: the page's keyset cursor. */
  id?: string;
  ids?: readonly string[];
  /** The how-manyth request of this method for this id (1 = the first); for `getMany` and `list`, of the method. */
  count: number;
}

/**
 * What the fake does with a request:
 * - `forward`: answer it;
 * - `{ status }`: refuse it with that HTTP status before anything happens (Kratos's error body, `reason`);
 * - `lose-answer`: a PATCH is committed, then its answer is lost (a 502 from a proxy in front of Kratos).
 */
export type Fault = "forward" | "lose-answer" | { status: number; reason?: string };

/** A test's rule: may also change the store (a deletion, a concurrent edit) before the request is answered. */
export type Rule = (call: Call, store: FakeKratos) => Fault | Promise<Fault>;

/** Traits Kratos derives an address and a password identifier from, in the schemas this project ships (schemas/*.json). */
const ADDRESS_TRAITS: Readonly<Record<string, string>> = { phone: "sms", email: "email" };

/** Fast retries for the reads, so that a test with faults takes milliseconds. */
export const FAST_RETRIES: RetryOptions = { attempts: 4, contentionAttempts: 6, contentionBackoffMs: 1, backoffMs: 1 };

function failure(status: number, reason = `injected ${status}`): AdminFailure {
  return classify({ response: { status, headers: {}, data: { error: { code: status, reason, message: reason } } } });
}

/** RFC 6901: `/traits/contact~1x/mobile` → `["traits", "contact/x", "mobile"]`. */
function tokensOf(pointer: string): string[] {
  if (!pointer.startsWith("/")) throw new AdminError(failure(400, `not a JSON pointer: ${pointer}`));
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** RFC 6902 `replace`: the target must exist (evanphx/json-patch, which Kratos uses, refuses otherwise). */
function replace(doc: JsonObject, pointer: string, value: unknown): void {
  const tokens = tokensOf(pointer);
  const last = tokens.pop() as string;
  let parent: unknown = doc;
  for (const token of tokens) {
    parent = Array.isArray(parent) ? parent[Number(token)] : isJsonObject(parent) ? parent[token] : undefined;
  }
  if (Array.isArray(parent)) {
    const index = Number(last);
    if (!Number.isInteger(index) || index < 0 || index >= parent.length)
      throw new AdminError(failure(400, `replace operation does not apply: ${pointer}`));
    parent[index] = structuredClone(value);
  } else if (isJsonObject(parent) && Object.hasOwn(parent, last)) {
    parent[last] = structuredClone(value) as JsonObject[string];
  } else {
    throw new AdminError(failure(400, `replace operation does not apply: doc is missing path ${pointer}`));
  }
}

export class FakeKratos implements AdminAPI {
  private readonly store = new Map<string, FakeIdentity>();
  readonly calls: Call[] = [];
  /** The PATCHes that committed, in order (a refused one is not here; a committed one whose answer was lost is). */
  readonly committed: { id: string; ops: readonly PatchOp[] }[] = [];
  rule: Rule = () => "forward";
  private readonly counts = new Map<string, number>();

  constructor(
    identities: readonly FakeIdentity[] = [],
    private readonly retries: RetryOptions = FAST_RETRIES,
  ) {
    for (const identity of identities) this.put(identity);
  }

  put(identity: FakeIdentity): void {
    this.store.set(identity.id, structuredClone(identity));
  }

  /** An identity as stored, credentials included (for assertions). */
  stored(id: string): FakeIdentity | undefined {
    const identity = this.store.get(id);
    return identity === undefined ? undefined : structuredClone(identity);
  }

  /** Every identity as stored, by id. */
  snapshot(): Map<string, FakeIdentity> {
    return new Map([...this.store].map(([id, identity]) => [id, structuredClone(identity)]));
  }

  delete(id: string): void {
    this.store.delete(id);
  }

  /** A write by someone else (an admin, the user in their settings): applied as Kratos would apply it. */
  edit(id: string, ops: readonly PatchOp[]): void {
    this.apply(id, ops);
  }

  patchesOf(id: string): number {
    return this.committed.filter((p) => p.id === id).length;
  }

  /** The ids any re-read (`get`, `getMany`) asked for, with repetitions. */
  reread(): string[] {
    return this.calls.flatMap((c) => (c.method === "get" ? [c.id as string] : c.method === "getMany" ? [...(c.ids ?? [])] : []));
  }

  private async request(call: Omit<Call, "count">): Promise<Fault> {
    const key = `${call.method}:${call.id ?? ""}`;
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    const full = { ...call, count };
    this.calls.push(full);
    const fault = await this.rule(full, this);
    if (typeof fault === "object") throw new AdminError(failure(fault.status, fault.reason));
    return fault;
  }

  /** What Kratos answers with: no credentials (the admin API leaves their config out; the backfill never reads them). */
  private answer(identity: FakeIdentity): StoredIdentity {
    const { credentials: _, ...rest } = structuredClone(identity);
    return rest;
  }

  async *pages(pageSize: number): AsyncGenerator<StoredIdentity[]> {
    if (pageSize < 1 || pageSize > 500) throw new AdminError(failure(400, "page_size must be between 1 and 500"));
    let after = "";
    for (;;) {
      const cursor = after;
      const page = await withRetries(async () => {
        await this.request({ method: "list", ...(cursor !== "" && { id: cursor }) });
        // Keyset pagination: the next page starts after the last id seen, on the store as it is now.
        return [...this.store.keys()]
          .filter((id) => id > cursor)
          .sort()
          .slice(0, pageSize)
          .map((id) => this.answer(this.store.get(id) as FakeIdentity));
      }, this.retries);
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      after = (page[page.length - 1] as StoredIdentity).id;
    }
  }

  async get(id: string): Promise<StoredIdentity> {
    return withRetries(async () => {
      await this.request({ method: "get", id });
      const identity = this.store.get(id);
      if (identity === undefined) throw new AdminError(failure(404, "Unable to locate the resource"));
      return this.answer(identity);
    }, this.retries);
  }

  async getMany(ids: readonly string[]): Promise<Map<string, StoredIdentity>> {
    if (ids.length > 500) throw new AdminError(failure(400, "too many ids"));
    return withRetries(async () => {
      await this.request({ method: "getMany", ids: [...ids] });
      const found = new Map<string, StoredIdentity>();
      for (const id of ids) {
        const identity = this.store.get(id);
        if (identity !== undefined) found.set(id, this.answer(identity));
      }
      return found;
    }, this.retries);
  }

  async patch(id: string, ops: readonly PatchOp[]): Promise<StoredIdentity> {
    const fault = await this.request({ method: "patch", id });
    const identity = this.apply(id, ops);
    this.committed.push({ id, ops: structuredClone(ops) });
    if (fault === "lose-answer") throw new AdminError(failure(502, "upstream connection lost"));
    return this.answer(identity);
  }

  /** A JSON Patch as Kratos applies it: all or nothing, then addresses and identifiers derived from the new traits. */
  private apply(id: string, ops: readonly PatchOp[]): FakeIdentity {
    const current = this.store.get(id);
    if (current === undefined) throw new AdminError(failure(404, "Unable to locate the resource"));
    const next = structuredClone(current) as unknown as JsonObject;
    for (const op of ops) {
      if (op.op !== "replace") throw new AdminError(failure(400, `unsupported patch operation ${op.op}`));
      if (/^\/(id|credentials|created_at|updated_at)(\/|$)/.test(op.path))
        throw new AdminError(failure(400, `patch of ${op.path} is not allowed`));
      replace(next, op.path, op.value);
    }
    const identity = next as unknown as FakeIdentity;
    if (typeof identity.schema_id !== "string" || !isJsonObject(identity.traits))
      throw new AdminError(failure(400, "the identity is not valid"));
    this.derive(identity);
    this.store.set(id, identity);
    return identity;
  }

  /**
   * Kratos v1.3.1 derives addresses from the traits on every write and matches the stored ones by
   * exact value: an address whose value no trait has any more is replaced by a new, unverified one.
   */
  private derive(identity: FakeIdentity): void {
    const wanted = Object.entries(ADDRESS_TRAITS).flatMap(([trait, via]) => {
      const value = identity.traits[trait];
      return typeof value === "string" && value !== "" ? [{ value, via }] : [];
    });
    if (identity.verifiable_addresses !== undefined) {
      identity.verifiable_addresses = wanted.map(
        ({ value, via }) =>
          identity.verifiable_addresses?.find((a) => a.value === value && a.via === via) ?? {
            value,
            via,
            verified: false,
            status: "pending",
          },
      );
    }
    if (identity.credentials !== undefined) identity.credentials.password.identifiers = wanted.map((w) => w.value.toLowerCase());
  }
}
