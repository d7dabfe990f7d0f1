import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { ShieldConfig } from "../../config/schema.js";
import type { Attempt } from "./attempt.js";
import { clientKey, createPseudonyms, type Hmac, type Pseudonyms } from "./keys.js";
import type { Outcome } from "./outcome.js";
import { batchOf, type Counter, type CounterHit, type ShieldStore } from "./store.js";

/** Why the shield refuses an attempt; each is a metric label, a log field and a message. */
export type ShieldReason =
  | "login_delayed"
  | "login_locked"
  | "identifier_locked"
  | "client_locked"
  | "sms_number_type"
  | "sms_country"
  | "sms_client_budget"
  | "sms_number_budget"
  | "sms_prefix_budget"
  | "sms_country_budget"
  | "sms_global_budget"
  | "store_unavailable";

export interface ShieldRefusal {
  reason: ShieldReason;
  /** When the client may try again (epoch ms), if that is known. */
  retryAt: number | undefined;
  /** The field the refusal is about (`identifier`, `traits.phone`), for the message's place. */
  field?: string;
}

/** What the shield records after Kratos answered, and hands back to the client. */
export interface AfterAnswer {
  /** A device marker to issue (a success): the owner's way past an identifier-wide lock. */
  device?: string;
  /** A lock that began with this failure, for the metric. */
  locked?: "login_locked" | "identifier_locked" | "client_locked";
  /**
   * Sends the store's writes for this outcome; the answer need not wait for them (on Redis they
   * go on the same connection, ahead of any later attempt's reads). Rejects when the store fails.
   */
  write: () => Promise<unknown>;
}

/** The shield's verdict on one attempt before it is forwarded. */
export interface ShieldCheck {
  refusal?: ShieldRefusal;
  /** Records Kratos's answer (login attempts); absent when there is nothing to record. */
  after?: (outcome: Outcome) => Promise<AfterAnswer>;
  /** The pseudonyms of what was counted, for the log line. */
  subject?: string;
  client?: string;
}

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

const SECOND = 1000;

/** A counter's hits but this one, less the forgiven: the failures (attempts in flight included) before this attempt. */
function failuresBefore(hit: Counter | undefined): number {
  if (hit === undefined) return 0;
  return Math.max(0, hit.count - 1 - hit.forgiven);
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
  const sms = config.sms;
  const now = options.now ?? Date.now;
  const pseudonyms = createPseudonyms(options.secret, options.hmac);
  const loginWindow = login.windowSeconds * SECOND;
  const clientWindow = login.clientWindowSeconds * SECOND;
  const smsWindow = sms.windowSeconds * SECOND;
  const refuseTypes = new Set<string>(sms.refuseTypes);

  const deviceToken = async (id: string, issued: number) => `v1.${issued}.${await pseudonyms.sign(`device:${id}:${issued}`)}`;
  const deviceValid = async (id: string, token: string | undefined, at: number): Promise<boolean> => {
    if (token === undefined) return false;
    const match = /^v1\.(\d{1,12})\.[A-Za-z0-9_-]{22}$/.exec(token);
    if (match === null) return false;
    const issued = Number(match[1]);
    if (issued * SECOND + login.deviceDays * 86_400 * SECOND < at || issued * SECOND > at + 60 * SECOND) return false;
    return (await deviceToken(id, issued)) === token;
  };
  async function checkLogin(attempt: Attempt, perClient: boolean, device: string | undefined): Promise<ShieldCheck> {
    const identifier = attempt.identifier;
    if (identifier === undefined) return {};
    const at = now();
    const address = perClient ? clientKey(attempt.clientAddress) : undefined;
    const [id, cl] = await Promise.all([
      pseudonyms.of("identifier", identifier),
      address === undefined ? undefined : pseudonyms.of("client", address),
    ]);
    const keysOf = (epoch: string) => {
      const subject = `${id}.${epoch}`;
      return {
        pair: cl === undefined ? undefined : `kh:l:p:${subject}:${cl}`,
        ident: `kh:l:i:${subject}`,
        wait: `kh:l:w:${subject}:${cl ?? "-"}`,
      };
    };
    const client = cl === undefined ? undefined : `kh:l:c:${cl}`;
    const credit = cl === undefined ? undefined : `kh:l:cc:${cl}`;
    // One round trip: the attempt counted (before it is forwarded, so that concurrent attempts are
    // each counted), the wait, the client's credit, and `shield unlock`'s epoch for the identifier.
    // After an unlock (the epoch is set) the identifier's counters are counted again under it.
    const count = async (keys: ReturnType<typeof keysOf>, first: boolean) => {
      const hits: CounterHit[] = [{ key: keys.ident, windowMs: loginWindow }];
      if (keys.pair !== undefined) hits.push({ key: keys.pair, windowMs: loginWindow });
      // The client's own counter does not depend on the identifier's epoch: counted once.
      if (first && client !== undefined) hits.push({ key: client, windowMs: clientWindow });
      const gets = first ? [keys.wait, `kh:l:e:${id}`] : [keys.wait];
      const read = await batchOf(store, { hits, peeks: first && credit !== undefined ? [credit] : [], gets }, at);
      return {
        ident: read.hits[0] as Counter,
        pair: keys.pair === undefined ? undefined : read.hits[1],
        client: first && client !== undefined ? read.hits.at(-1) : undefined,
        credit: read.peeks[0],
        wait: read.gets[0],
        epoch: read.gets[1],
      };
    };
    let keys = keysOf("0");
    const [first, marked] = await Promise.all([count(keys, true), deviceValid(id, device, at)]);
    let counters = first;
    if (first.epoch !== undefined) {
      keys = keysOf(first.epoch);
      counters = { ...(await count(keys, false)), client: first.client, credit: first.credit };
    }
    const failures = {
      ident: failuresBefore(counters.ident),
      pair: failuresBefore(counters.pair),
      client: failuresBefore(counters.client),
    };
    const allowance = login.clientLockAfter + Math.min((first.credit?.count ?? 0) * login.clientCreditPerSuccess, login.clientMaxCredit);
    const { pair, ident } = counters;
    const counted = [keys.ident, ...(keys.pair === undefined ? [] : [keys.pair]), ...(client === undefined ? [] : [client])];

    let refusal: ShieldRefusal | undefined;
    if (pair !== undefined && failures.pair >= login.lockAfter) refusal = { reason: "login_locked", retryAt: pair.resetAt };
    else if (counters.wait !== undefined && Number(counters.wait) > at)
      refusal = { reason: "login_delayed", retryAt: Number(counters.wait) };
    else if (!marked && failures.ident >= login.identifierLockAfter) refusal = { reason: "identifier_locked", retryAt: ident.resetAt };
    else if (!marked && counters.client !== undefined && failures.client >= allowance)
      refusal = { reason: "client_locked", retryAt: counters.client.resetAt };
    if (refusal !== undefined) {
      // It never reaches Kratos: no failure of the identifier's.
      await store.forgive(counted, now());
      return { refusal: { ...refusal, field: "identifier" }, subject: id, ...(cl && { client: cl }) };
    }

    const after = async (outcome: Outcome): Promise<AfterAnswer> => {
      const done = now();
      if (outcome.kind === "credential_failure") {
        const own = (pair === undefined ? failures.ident : failures.pair) + 1;
        const writes: (() => Promise<unknown>)[] = [];
        if (own >= login.delayAfter && own < login.lockAfter) {
          const delay = Math.min(login.delaySeconds * 2 ** (own - login.delayAfter), login.maxDelaySeconds) * SECOND;
          writes.push(() => store.put(keys.wait, String(done + delay), delay, done));
        }
        const locked =
          pair !== undefined && failures.pair + 1 === login.lockAfter
            ? "login_locked"
            : failures.ident + 1 === login.identifierLockAfter
              ? "identifier_locked"
              : counters.client !== undefined && failures.client + 1 === allowance
                ? "client_locked"
                : undefined;
        return { ...(locked && { locked }), write: () => Promise.all(writes.map((w) => w())) };
      }
      if (outcome.kind !== "success") return { write: () => store.forgive(counted, done) };
      // A success resets the identifier's counters (this client's and the identifier-wide one),
      // never the client's own counter across identifiers: its attempt is forgiven, and the client
      // earns credit once per identifier that signs in from it.
      const resets = [keys.ident, keys.wait, ...(keys.pair === undefined ? [] : [keys.pair])];
      const earns = cl !== undefined && credit !== undefined && login.clientCreditPerSuccess > 0;
      const write = () =>
        batchOf(
          store,
          {
            resets,
            forgives: client === undefined ? [] : [client],
            hits: earns ? [{ key: `kh:l:cs:${cl}:${id}`, windowMs: clientWindow }] : [],
          },
          done,
        ).then(async ({ hits: [marker] }) => {
          if (earns && marker?.count === 1) await store.hit([{ key: credit, windowMs: clientWindow }], done);
        });
      return { device: await deviceToken(id, Math.floor(done / SECOND)), write };
    };
    return { after, subject: id, ...(cl && { client: cl }) };
  }

  async function checkSms(attempt: Attempt, perClient: boolean): Promise<ShieldCheck> {
    const to = attempt.sends?.to;
    if (to === undefined) return {};
    const field = attempt.flow === "login" ? "identifier" : attempt.flow === "recovery" ? "recovery_address" : undefined;
    const refuse = (reason: ShieldReason, retryAt?: number): ShieldCheck => ({ refusal: { reason, retryAt, ...(field && { field }) } });
    const number = parsePhoneNumberFromString(to);
    if (number === undefined) return {};
    const type = number.getType() ?? "UNKNOWN";
    if (refuseTypes.has(type)) return refuse("sms_number_type");
    const country = number.country;
    if (options.allowedCountries !== null && (country === undefined || !options.allowedCountries.includes(country)))
      return refuse("sms_country");
    if (country !== undefined && options.deniedCountries.includes(country)) return refuse("sms_country");
    const at = now();
    const address = perClient ? clientKey(attempt.clientAddress) : undefined;
    const [num, prefix, cl] = await Promise.all([
      pseudonyms.of("number", to),
      pseudonyms.of("prefix", to.slice(0, -sms.prefixHiddenDigits)),
      address === undefined ? undefined : pseudonyms.of("client", address),
    ]);
    const budgets: [ShieldReason, CounterHit, number][] = [
      ...(cl === undefined
        ? []
        : [["sms_client_budget", { key: `kh:s:c:${cl}`, windowMs: smsWindow }, sms.perClient] as [ShieldReason, CounterHit, number]]),
      ["sms_number_budget", { key: `kh:s:n:${num}`, windowMs: smsWindow }, sms.perNumber],
      ["sms_prefix_budget", { key: `kh:s:p:${prefix}`, windowMs: smsWindow }, sms.perPrefix],
      ["sms_country_budget", { key: `kh:s:cc:${number.countryCallingCode}`, windowMs: smsWindow }, sms.perCountry],
      ["sms_global_budget", { key: "kh:s:g", windowMs: 60 * SECOND }, sms.perMinute],
    ];
    // Each budget counted at once, before the submit is forwarded; a code that was not sent after
    // all (the form shown again: a validation error, a wrong code, an unknown account) or that the
    // shield refused is forgiven, so that a person who corrects a form spends no budget on it.
    const counters = await store.hit(
      budgets.map(([, hit]) => hit),
      at,
    );
    const keys = budgets.map(([, hit]) => hit.key);
    for (const [i, [reason, , limit]] of budgets.entries()) {
      const counter = counters[i];
      if (counter !== undefined && counter.count - counter.forgiven > limit) {
        await store.forgive(keys, now());
        return { ...refuse(reason, counter.resetAt), subject: num };
      }
    }
    const after = async (outcome: Outcome): Promise<AfterAnswer> => {
      const notSent = outcome.kind === "credential_failure" || (outcome.kind === "other" && outcome.shownAgain === true);
      return { write: notSent ? () => store.forgive(keys, now()) : async () => undefined };
    };
    return { after, subject: num };
  }

  return {
    store,
    pseudonyms,
    async check(attempt, perClient, device) {
      const sms = await checkSms(attempt, perClient);
      if (sms.refusal !== undefined || attempt.flow !== "login") return sms;
      const login = await checkLogin(attempt, perClient, device);
      if (sms.after === undefined || login.refusal !== undefined) {
        // A code login refused as a login sends no code: its SMS budgets are given back.
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
    },
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
      await store.put(`kh:l:e:${id}`, String(at), Math.max(loginWindow, clientWindow), at);
      if (parsePhoneNumberFromString(identifier)?.isValid()) await store.reset([`kh:s:n:${await pseudonyms.of("number", identifier)}`]);
    },
  };
}
