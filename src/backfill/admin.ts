import { Configuration, IdentityApi, type JsonPatch } from "@ory/client";
import { STATUS } from "../core/http-status.js";
import { isJsonObject } from "../core/json.js";
import { isStoredIdentity, type PatchOp, type StoredIdentity } from "./plan.js";

/** Why a request to the admin API failed, as the backfill acts on it (contract §10). */
export interface AdminFailure {
  /**
   * `transient`: 429, 5xx, a network error, or SQLite's "concurrent update" 400: worth retrying.
   * `unreachable`: no HTTP answer at all (also transient).
   */
  kind: "conflict" | "not_found" | "bad_request" | "unauthorized" | "transient" | "unreachable";
  /** The HTTP status, when there was an answer. */
  status?: number;
  /** Kratos's reason or message, or the network error's code: never a trait value. */
  reason: string;
  /** Seconds a 429 or 503 asked to wait (`Retry-After`). */
  retryAfter?: number;
  /** SQLite's lock contention: another write held the lock; nothing is wrong with this one. */
  contention?: boolean;
}

export class AdminError extends Error {
  override name = "AdminError";
  constructor(readonly failure: AdminFailure) {
    super(`${failure.status ?? failure.kind}: ${failure.reason}`);
  }
}

interface AxiosLike {
  code?: string;
  message?: string;
  response?: { status: number; data?: unknown; headers?: Record<string, unknown> };
}

/** Reads an @ory/client (axios) error into what the backfill does about it. */
export function classify(error: unknown): AdminFailure {
  const e = error as AxiosLike;
  const response = e?.response;
  if (response === undefined) return { kind: "unreachable", reason: e?.code ?? e?.message ?? "network error" };
  const body = isJsonObject(response.data) && isJsonObject(response.data.error) ? response.data.error : {};
  const reason = String(body.reason ?? body.message ?? `HTTP ${response.status}`).slice(0, 300);
  const { status } = response;
  if (status === STATUS.conflict) return { kind: "conflict", status, reason };
  if (status === STATUS.notFound) return { kind: "not_found", status, reason };
  if (status === STATUS.unauthorized || status === STATUS.forbidden) return { kind: "unauthorized", status, reason };
  if (status === STATUS.tooManyRequests || status >= STATUS.internalError) {
    const retryAfter = Number(response.headers?.["retry-after"]);
    return { kind: "transient", status, reason, ...(Number.isFinite(retryAfter) && retryAfter >= 0 && { retryAfter }) };
  }
  // SQLite answers lock contention with a 400 (contract §10): a retry, not a refusal.
  if (status === STATUS.badRequest && /concurrent update/i.test(reason)) return { kind: "transient", status, reason, contention: true };
  return { kind: "bad_request", status, reason };
}

export function isTransient(failure: AdminFailure): boolean {
  return failure.kind === "transient" || failure.kind === "unreachable";
}

export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts: number;
  /**
   * Attempts in all when the failure is SQLite's lock contention, which at a concurrency above one
   * is routine on SQLite (Kratos's development database) and says nothing about the admin API's health.
   */
  contentionAttempts: number;
  /** The first pause after lock contention: a write takes milliseconds, so the lock is soon free again. */
  contentionBackoffMs: number;
  /** The first pause; each later one doubles, up to 5 s. Each is drawn between half and all of that, so that writers that collided do not collide again. */
  backoffMs: number;
}

export const DEFAULT_RETRIES: RetryOptions = { attempts: 5, contentionAttempts: 30, contentionBackoffMs: 10, backoffMs: 100 };

/** Whether a failure on attempt `attempt` may be tried again. */
export function mayRetry(failure: AdminFailure, attempt: number, retries: RetryOptions): boolean {
  return isTransient(failure) && attempt < (failure.contention === true ? retries.contentionAttempts : retries.attempts);
}

/** The pause before attempt `attempt + 1`: jittered exponential backoff, or the server's Retry-After (at most 30 s). */
export function backoff(attempt: number, retries: RetryOptions, failure: AdminFailure): Promise<void> {
  const ceiling =
    failure.contention === true
      ? Math.min(1_000, retries.contentionBackoffMs * 2 ** (attempt - 1))
      : Math.min(5_000, retries.backoffMs * 2 ** (attempt - 1));
  const ms = failure.retryAfter !== undefined ? Math.min(30_000, failure.retryAfter * 1000) : ceiling * (0.5 + Math.random() / 2);
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `call`, retrying transient failures with exponential backoff; throws `AdminError` with the last failure. */
export async function withRetries<T>(call: () => Promise<T>, retries: RetryOptions, onRetry?: (failure: AdminFailure) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const failure = error instanceof AdminError ? error.failure : classify(error);
      if (!mayRetry(failure, attempt, retries)) throw new AdminError(failure);
      onRetry?.(failure);
      await backoff(attempt, retries, failure);
    }
  }
}

/** `<…?page_size=500&page_token=X>; rel="next"` → X (ory/x `keysetpagination`). */
export function nextPageToken(link: string | undefined): string | undefined {
  for (const part of (link ?? "").split(/,(?=\s*<)/)) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/.exec(part);
    if (match?.[1] === undefined) continue;
    const token = new URL(match[1], "http://kratos.invalid").searchParams.get("page_token");
    if (token !== null && token !== "") return token;
  }
  return undefined;
}

/**
 * Kratos's admin identity API, as the backfill uses it: keyset listing, one read, one JSON Patch.
 * Listing and reading retry transient failures; a PATCH is tried once, because whether to try
 * it again depends on what the identity looks like afterwards (the caller reads it back).
 */
export interface AdminAPI {
  /** Every identity, page by page (keyset pagination, `page_size` ≤ 500, following `Link: rel="next"`). */
  pages(pageSize: number): AsyncGenerator<StoredIdentity[]>;
  get(id: string): Promise<StoredIdentity>;
  /** These identities, read in one request (`?ids=…`); a deleted one is missing from the map. */
  getMany(ids: readonly string[]): Promise<Map<string, StoredIdentity>>;
  patch(id: string, ops: readonly PatchOp[]): Promise<StoredIdentity>;
}

export interface AdminOptions {
  /** Sent as a bearer token (Ory Network, a protected admin API). */
  token?: string | undefined;
  retries?: RetryOptions;
  /** Told of each retry (the caller counts them). */
  onRetry?: (failure: AdminFailure) => void;
  timeoutMs?: number;
}

/** The admin API through @ory/client. Throws `AdminError`. */
export function createAdminAPI(adminUrl: string, options: AdminOptions = {}): AdminAPI {
  const { token, retries = DEFAULT_RETRIES, onRetry, timeoutMs = 30_000 } = options;
  const api = new IdentityApi(
    new Configuration({ basePath: adminUrl.replace(/\/$/, ""), accessToken: token, baseOptions: { timeout: timeoutMs } }),
  );
  const identity = (value: unknown): StoredIdentity => {
    if (!isStoredIdentity(value))
      throw new AdminError({ kind: "bad_request", reason: "the admin API answered with something that is not an identity" });
    return value;
  };
  return {
    async *pages(pageSize) {
      let pageToken: string | undefined;
      for (;;) {
        const token = pageToken;
        const res = await withRetries(
          () => api.listIdentities({ pageSize, ...(token !== undefined && { pageToken: token }) }),
          retries,
          onRetry,
        );
        if (!Array.isArray(res.data))
          throw new AdminError({ kind: "bad_request", status: res.status, reason: "the identity list is not a JSON array" });
        yield res.data.map(identity);
        pageToken = nextPageToken(res.headers.link as string | undefined);
        if (pageToken === undefined || res.data.length === 0) return;
      }
    },
    async get(id) {
      return identity((await withRetries(() => api.getIdentity({ id }), retries, onRetry)).data);
    },
    async getMany(ids) {
      const res = await withRetries(() => api.listIdentities({ ids: [...ids], pageSize: Math.max(1, ids.length) }), retries, onRetry);
      if (!Array.isArray(res.data))
        throw new AdminError({ kind: "bad_request", status: res.status, reason: "the identity list is not a JSON array" });
      return new Map(res.data.map((value) => [value.id, identity(value)]));
    },
    async patch(id, ops) {
      try {
        return identity((await api.patchIdentity({ id, jsonPatch: ops as JsonPatch[] })).data);
      } catch (error) {
        throw error instanceof AdminError ? error : new AdminError(classify(error));
      }
    },
  };
}
