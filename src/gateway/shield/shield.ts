import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { ShieldConfig } from "../../config/schema.js";
import type { Attempt } from "./attempt.js";
import { SECOND, type ShieldCheck } from "./check.js";
import { createDeviceMarkers } from "./device-marker.js";
import { createPseudonyms, type Hmac, type Pseudonyms } from "./keys.js";
import { checkLogin, type LoginDeps } from "./login-check.js";
import { checkSms, type SmsDeps } from "./sms-check.js";
import type { ShieldStore } from "./store.js";

/** What `createShield` takes: the `gateway.shield` config, a store and the secret of its pseudonyms. */
export interface ShieldOptions {
  config: ShieldConfig;
  store: ShieldStore;
  /** The HMAC key of every pseudonym and device marker: the same on every instance sharing a store. */
  secret: string;
  /** `normalizePhone.allowedCountries` and `deniedCountries`: where codes may go. */
  allowedCountries: readonly string[] | null;
  deniedCountries: readonly string[];
  /** The clock (tests); `Date.now` by default. */
  now?: () => number;
  /** The HMAC behind the pseudonyms: Web Crypto by default (every runtime); Node passes its own, synchronous one. */
  hmac?: Hmac;
}

/** Login protection and SMS budgets over one store (docs/shield.md): `createGateway({ shield })` runs it as its first rule. */
export interface Shield {
  readonly store: ShieldStore;
  readonly pseudonyms: Pseudonyms;
  /**
   * Checks an attempt before it is forwarded and counts it. `perClient`: whether the client's
   * address tells clients apart (`shield.perClient`); `device`: the marker the client sent.
   * Rejects when the store cannot answer (the caller applies `failMode`).
   */
  check(attempt: Attempt, perClient: boolean, device: string | undefined): Promise<ShieldCheck>;
  /** What the store holds for an identifier (the CLI's `shield status`). */
  status(identifier: string): Promise<{ failures: number; resetAt: number | undefined; locked: boolean; smsSent: number }>;
  /** Forgets an identifier's login failures and its SMS budget (`shield unlock`). */
  unlock(identifier: string): Promise<void>;
}

/**
 * The SMS budgets, then (a login) login protection, on one attempt. A code login refused as a
 * login sends no code: its SMS budgets are given back. Both record Kratos's answer.
 */
async function checkAttempt(
  deps: { sms: SmsDeps; login: LoginDeps },
  attempt: Attempt,
  perClient: boolean,
  device: string | undefined,
): Promise<ShieldCheck> {
  const sms = await checkSms(deps.sms, attempt, perClient);
  if (sms.refusal !== undefined || attempt.flow !== "login") return sms;
  const login = await checkLogin(deps.login, attempt, perClient, device);
  if (sms.after === undefined || login.refusal !== undefined) {
    if (login.refusal !== undefined) await sms.after?.({ kind: "credential_failure", messageId: 0 }).then((a) => a.write());
    return login;
  }
  if (login.after === undefined) return sms;
  const [smsAfter, loginAfter] = [sms.after, login.after];
  return {
    ...login,
    after: async (outcome) => {
      const [a, b] = await Promise.all([smsAfter(outcome), loginAfter(outcome)]);
      return { ...b, write: () => Promise.all([a.write(), b.write()]) };
    },
  };
}

/**
 * Login protection and SMS budgets (docs/shield.md). Counting is on the attempt, before it is
 * forwarded, so that concurrent attempts are each counted; an attempt whose answer was no
 * credential failure (a success, a code sent, a validation error, or a refusal of the shield's
 * own) is then "forgiven" in the counter itself (its window, its key). So a counter reads:
 * failures and attempts in flight.
 *
 * ```ts
 * import { createGateway, createShield, MemoryStore } from "kratos-hooks";
 * const shield = createShield({ config: config.gateway.shield, store: new MemoryStore(), secret,
 *   allowedCountries: config.normalizePhone.allowedCountries, deniedCountries: config.normalizePhone.deniedCountries });
 * const gateway = createGateway({ config, upstream, logger, shield });
 * ```
 */
export function createShield(options: ShieldOptions): Shield {
  const { config, store } = options;
  const login = config.login;
  const now = options.now ?? Date.now;
  const pseudonyms = createPseudonyms(options.secret, options.hmac);
  const common = { store, pseudonyms, now };
  const deps = {
    login: { ...common, login, devices: createDeviceMarkers(pseudonyms, login.deviceDays) },
    sms: {
      ...common,
      sms: config.sms,
      refuseTypes: new Set<string>(config.sms.refuseTypes),
      allowedCountries: options.allowedCountries,
      deniedCountries: options.deniedCountries,
    },
  };
  return {
    store,
    pseudonyms,
    check: (attempt, perClient, device) => checkAttempt(deps, attempt, perClient, device),
    async status(identifier) {
      const id = await pseudonyms.of("identifier", identifier);
      const at = now();
      const epoch = await store.get(`kh:l:e:${id}`, at);
      const [ident] = await store.peek([`kh:l:i:${id}.${epoch ?? 0}`], at);
      const failures = ident === undefined ? 0 : Math.max(0, ident.count - ident.forgiven);
      const num = parsePhoneNumberFromString(identifier)?.isValid() ? await pseudonyms.of("number", identifier) : undefined;
      const [sent] = num === undefined ? [undefined] : await store.peek([`kh:s:n:${num}`], at);
      return { failures, resetAt: ident?.resetAt, locked: failures >= login.identifierLockAfter, smsSent: sent?.count ?? 0 };
    },
    async unlock(identifier) {
      const id = await pseudonyms.of("identifier", identifier);
      const at = now();
      // A new epoch: the identifier's counters start again under it (login-check.ts), for as long as any of them lives.
      await store.put(`kh:l:e:${id}`, String(at), Math.max(login.windowSeconds, login.clientWindowSeconds) * SECOND, at);
      if (parsePhoneNumberFromString(identifier)?.isValid()) await store.reset([`kh:s:n:${await pseudonyms.of("number", identifier)}`]);
    },
  };
}
