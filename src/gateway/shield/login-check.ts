import type { ShieldConfig } from "../../config/schema.js";
import type { Attempt } from "./attempt.js";
import { type AfterAnswer, type CheckDeps, SECOND, type ShieldCheck, type ShieldRefusal } from "./check.js";
import type { DeviceMarkers } from "./device-marker.js";
import { clientKey, type Pseudonyms } from "./keys.js";
import type { Outcome } from "./outcome.js";
import { batchOf, type Counter, type CounterHit } from "./store.js";

type LoginConfig = ShieldConfig["login"];

/** What login protection counts with: the checks' store, pseudonyms and clock, `shield.login`, and the device markers. */
export interface LoginDeps extends CheckDeps {
  login: LoginConfig;
  devices: DeviceMarkers;
}

/** Who a login attempt is to the store: the identifier's and the client's pseudonyms, and the client's own keys. */
interface LoginSubject {
  id: string;
  cl: string | undefined;
  /** The client's failures across identifiers. */
  client: string | undefined;
  /** The client's credit: a hit per identifier that signed in from it. */
  credit: string | undefined;
}

/** The identifier's keys under one epoch (`shield unlock` starts a new one): this client's counter, the identifier-wide one, the wait. */
interface LoginKeys {
  pair: string | undefined;
  ident: string;
  wait: string;
}

/** What one round trip read. */
interface LoginCounters {
  ident: Counter;
  pair: Counter | undefined;
  client: Counter | undefined;
  credit: Counter | undefined;
  wait: string | undefined;
  epoch: string | undefined;
}

/** The failures before this attempt, and how many the client may have (its lock plus its credit). */
interface LoginTally {
  ident: number;
  pair: number;
  client: number;
  allowance: number;
}

/** One counted attempt that went on to Kratos: what its answer is recorded against. */
interface CountedLogin {
  who: LoginSubject;
  keys: LoginKeys;
  counters: LoginCounters;
  tally: LoginTally;
  /** The counters this attempt was counted in: forgiven when it turns out no failure. */
  counted: string[];
}

/** A counter's hits but this one, less the forgiven: the failures (attempts in flight included) before this attempt. */
function failuresBefore(hit: Counter | undefined): number {
  if (hit === undefined) return 0;
  return Math.max(0, hit.count - 1 - hit.forgiven);
}

async function loginSubject(pseudonyms: Pseudonyms, identifier: string, address: string | undefined): Promise<LoginSubject> {
  const [id, cl] = await Promise.all([
    pseudonyms.of("identifier", identifier),
    address === undefined ? undefined : pseudonyms.of("client", address),
  ]);
  return { id, cl, client: cl === undefined ? undefined : `kh:l:c:${cl}`, credit: cl === undefined ? undefined : `kh:l:cc:${cl}` };
}

function loginKeys(who: LoginSubject, epoch: string): LoginKeys {
  const subject = `${who.id}.${epoch}`;
  return {
    pair: who.cl === undefined ? undefined : `kh:l:p:${subject}:${who.cl}`,
    ident: `kh:l:i:${subject}`,
    wait: `kh:l:w:${subject}:${who.cl ?? "-"}`,
  };
}

/**
 * One round trip: the attempt counted (before it is forwarded, so that concurrent attempts are
 * each counted), the wait, and on the `first` count the client's own counter, its credit and
 * `shield unlock`'s epoch for the identifier.
 */
async function countLogin(deps: LoginDeps, who: LoginSubject, keys: LoginKeys, first: boolean, at: number): Promise<LoginCounters> {
  const loginWindow = deps.login.windowSeconds * SECOND;
  const hits: CounterHit[] = [{ key: keys.ident, windowMs: loginWindow }];
  if (keys.pair !== undefined) hits.push({ key: keys.pair, windowMs: loginWindow });
  // The client's own counter does not depend on the identifier's epoch: counted once.
  if (first && who.client !== undefined) hits.push({ key: who.client, windowMs: deps.login.clientWindowSeconds * SECOND });
  const gets = first ? [keys.wait, `kh:l:e:${who.id}`] : [keys.wait];
  const peeks = first && who.credit !== undefined ? [who.credit] : [];
  const read = await batchOf(deps.store, { hits, peeks, gets }, at);
  return {
    ident: read.hits[0] as Counter,
    pair: keys.pair === undefined ? undefined : read.hits[1],
    client: first && who.client !== undefined ? read.hits.at(-1) : undefined,
    credit: read.peeks[0],
    wait: read.gets[0],
    epoch: read.gets[1],
  };
}

/**
 * The attempt counted under the identifier's current epoch (after an unlock, the identifier's
 * counters are counted again under it), and whether the client holds the identifier's device marker.
 */
async function countAttempt(
  deps: LoginDeps,
  who: LoginSubject,
  device: string | undefined,
  at: number,
): Promise<{ keys: LoginKeys; counters: LoginCounters; marked: boolean }> {
  const keys = loginKeys(who, "0");
  const [first, marked] = await Promise.all([countLogin(deps, who, keys, true, at), deps.devices.valid(who.id, device, at)]);
  if (first.epoch === undefined) return { keys, counters: first, marked };
  const unlocked = loginKeys(who, first.epoch);
  const counters = { ...(await countLogin(deps, who, unlocked, false, at)), client: first.client, credit: first.credit };
  return { keys: unlocked, counters, marked };
}

function tallyOf(login: LoginConfig, counters: LoginCounters): LoginTally {
  return {
    ident: failuresBefore(counters.ident),
    pair: failuresBefore(counters.pair),
    client: failuresBefore(counters.client),
    allowance: login.clientLockAfter + Math.min((counters.credit?.count ?? 0) * login.clientCreditPerSuccess, login.clientMaxCredit),
  };
}

/** The lock or wait this attempt meets, if any; the owner's device marker passes the identifier-wide and the client's locks. */
function loginRefusal(
  login: LoginConfig,
  counters: LoginCounters,
  tally: LoginTally,
  marked: boolean,
  at: number,
): ShieldRefusal | undefined {
  const { pair, ident, client, wait } = counters;
  if (pair !== undefined && tally.pair >= login.lockAfter) return { reason: "login_locked", retryAt: pair.resetAt };
  if (wait !== undefined && Number(wait) > at) return { reason: "login_delayed", retryAt: Number(wait) };
  if (!marked && tally.ident >= login.identifierLockAfter) return { reason: "identifier_locked", retryAt: ident.resetAt };
  if (!marked && client !== undefined && tally.client >= tally.allowance) return { reason: "client_locked", retryAt: client.resetAt };
  return undefined;
}

/** A credential failure: the wait it earns (progressive delay) and the lock it begins, if any. */
function recordFailure(deps: LoginDeps, attempt: CountedLogin, done: number): AfterAnswer {
  const { login, store } = deps;
  const { counters, tally } = attempt;
  const own = (counters.pair === undefined ? tally.ident : tally.pair) + 1;
  const writes: (() => Promise<unknown>)[] = [];
  if (own >= login.delayAfter && own < login.lockAfter) {
    const delay = Math.min(login.delaySeconds * 2 ** (own - login.delayAfter), login.maxDelaySeconds) * SECOND;
    writes.push(() => store.put(attempt.keys.wait, String(done + delay), delay, done));
  }
  const locked =
    counters.pair !== undefined && tally.pair + 1 === login.lockAfter
      ? "login_locked"
      : tally.ident + 1 === login.identifierLockAfter
        ? "identifier_locked"
        : counters.client !== undefined && tally.client + 1 === tally.allowance
          ? "client_locked"
          : undefined;
  return { ...(locked && { locked }), write: () => Promise.all(writes.map((w) => w())) };
}

/**
 * A success resets the identifier's counters (this client's and the identifier-wide one), never
 * the client's own counter across identifiers: its attempt is forgiven, and the client earns
 * credit once per identifier that signs in from it. The owner gets a device marker.
 */
async function recordSuccess(deps: LoginDeps, attempt: CountedLogin, done: number): Promise<AfterAnswer> {
  const { login, store } = deps;
  const { keys } = attempt;
  const { id, cl, client, credit } = attempt.who;
  const clientWindow = login.clientWindowSeconds * SECOND;
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
  return { device: await deps.devices.issue(id, done), write };
}

async function recordLogin(deps: LoginDeps, attempt: CountedLogin, outcome: Outcome): Promise<AfterAnswer> {
  const done = deps.now();
  if (outcome.kind === "credential_failure") return recordFailure(deps, attempt, done);
  if (outcome.kind !== "success") return { write: () => deps.store.forgive(attempt.counted, done) };
  return recordSuccess(deps, attempt, done);
}

/**
 * Login protection on one attempt (docs/shield.md#login-protection): counted on its identifier,
 * per client and identifier-wide, and on its client across identifiers, before it is forwarded;
 * refused at a lock or during a wait, else its answer recorded by `after`.
 */
export async function checkLogin(deps: LoginDeps, attempt: Attempt, perClient: boolean, device: string | undefined): Promise<ShieldCheck> {
  const identifier = attempt.identifier;
  if (identifier === undefined) return {};
  const at = deps.now();
  const who = await loginSubject(deps.pseudonyms, identifier, perClient ? clientKey(attempt.clientAddress) : undefined);
  const { keys, counters, marked } = await countAttempt(deps, who, device, at);
  const tally = tallyOf(deps.login, counters);
  const counted = [keys.ident, ...(keys.pair === undefined ? [] : [keys.pair]), ...(who.client === undefined ? [] : [who.client])];
  const named = { subject: who.id, ...(who.cl && { client: who.cl }) };
  const refusal = loginRefusal(deps.login, counters, tally, marked, at);
  if (refusal !== undefined) {
    // It never reaches Kratos: no failure of the identifier's.
    await deps.store.forgive(counted, deps.now());
    return { refusal: { ...refusal, field: "identifier" }, ...named };
  }
  const state: CountedLogin = { who, keys, counters, tally, counted };
  return { after: (outcome) => recordLogin(deps, state, outcome), ...named };
}
