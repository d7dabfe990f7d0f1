// The shield benchmark's scenarios: attack traffic interleaved with real people, through the real
// gateway in front of the Kratos stand-in, which counts what reached it.
import type { KratosStandIn, StandInSubmit, StandInUser } from "../support/kratos-standin.js";
import { summarize } from "./interleaved.js";
import { Client, type Gateway, pool, type Result, random, type ShieldMode, shuffle } from "./shield-driver.js";
import { type PhoneNumber, pumpRanges, randomMobile, type Typed, typed } from "./shield-numbers.js";

/** Requests in flight at once, from all simulated clients together. */
export const CONCURRENCY = 32;

export interface RunContext {
  mode: ShieldMode;
  /** 1: the full run; the quick run scales every population down. */
  scale: number;
  /** A fresh stand-in seeded with `users` and a fresh gateway (and store) in front of it; the caller stops them. */
  start(users: StandInUser[], onSubmit?: (submit: StandInSubmit) => void): Promise<{ standin: KratosStandIn; gateway: Gateway }>;
}

const scaled = (n: number, scale: number) => Math.max(1, Math.round(n * scale));

/** Distinct addresses in a /8 of their own per population: attackers, people, carrier NATs. */
const address = (first: number, i: number) => `${first}.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i & 255) + 1}`;

/** A login or sign-up as typed: the number's region goes in the form (`phone_region`) or in the header the service reads. */
function withRegion(payload: Record<string, unknown>, input: Typed): { payload: Record<string, unknown>; headers: Record<string, string> } {
  if (input.region === undefined) return { payload, headers: {} };
  if (input.region.via === "form")
    return { payload: { ...payload, transient_payload: { phone_region: input.region.country } }, headers: {} };
  return { payload, headers: { "cf-ipcountry": input.region.country } };
}

function tally(counts: Record<string, number>, result: Result): void {
  if (result.refused) counts[result.reason ?? "?"] = (counts[result.reason ?? "?"] ?? 0) + 1;
}

export interface StuffingFigures {
  attempts: number;
  clients: number;
  /** Stuffing submits the stand-in received (password logins of a stuffed account). */
  reachedKratos: number;
  refusedByShield: number;
  /** The shield's reasons, for the attack's attempts and for real users' ones. */
  refusals: { attack: Record<string, number>; real: Record<string, number> };
  realUsers: number;
  behindNat: number;
  /** Real users refused by the shield at least once. */
  realRefused: number;
  realNotSignedIn: number;
  /** What the stand-in counted, and what it should have counted were nothing refused: the driver's own check. */
  kratosCounted: { failed: number; succeeded: number };
  unrefused: { failed: number; succeeded: number };
  seconds: number;
}

/**
 * Credential stuffing: `attempts` wrong passwords over `accounts` accounts from `clients`
 * addresses, interleaved with real users who mistype 0–2 times and then sign in, a fifth of them
 * behind 10 carrier NAT addresses. Real users type their phone in every format the gateway reads.
 */
export async function credentialStuffing(ctx: RunContext): Promise<StuffingFigures> {
  const rng = random(1);
  const n = {
    accounts: scaled(10_000, ctx.scale),
    attempts: scaled(20_000, ctx.scale),
    clients: scaled(500, ctx.scale),
    real: scaled(1_000, ctx.scale),
    nats: scaled(10, ctx.scale),
  };
  const accounts = Array.from({ length: n.accounts }, (_, i) => ({
    identifier: i % 10 < 7 ? `stuffed.${i}@example.net` : randomMobile(rng).e164,
    password: `own password ${i}`,
  }));
  const stuffed = new Set(accounts.map((a) => a.identifier));
  let natUsers = 0;
  const people = Array.from({ length: n.real }, (_, i) => {
    const phone = randomMobile(rng);
    const mistakes = rng() < 0.6 ? 0 : rng() < 0.75 ? 1 : 2;
    const nat = i % 5 === 0;
    return { phone, password: `real password ${i}`, mistakes, nat, address: nat ? address(62, natUsers++ % n.nats) : address(81, i) };
  });
  let reachedKratos = 0;
  const { standin, gateway } = await ctx.start(
    [...accounts, ...people.map((p) => ({ identifier: p.phone.e164, password: p.password }))],
    (submit) => {
      if (submit.flow === "login" && submit.identifier !== undefined && stuffed.has(submit.identifier)) reachedKratos++;
    },
  );
  const attackers = Array.from({ length: n.clients }, (_, i) => new Client(gateway.url, address(45, i)));
  const refusals = { attack: {} as Record<string, number>, real: {} as Record<string, number> };
  let refusedByShield = 0;
  let realRefused = 0;
  let realNotSignedIn = 0;
  const tasks: (() => Promise<void>)[] = [];
  for (let i = 0; i < n.attempts; i++) {
    const account = accounts[i % n.accounts] as (typeof accounts)[number];
    const client = attackers[Math.floor(rng() * n.clients)] as Client;
    tasks.push(async () => {
      const result = await client.submit("login", { method: "password", identifier: account.identifier, password: `leaked ${i}` });
      if (result.refused) refusedByShield++;
      tally(refusals.attack, result);
    });
  }
  for (const person of people) {
    const input = typed(person.phone, rng);
    tasks.push(async () => {
      const client = new Client(gateway.url, person.address);
      let refused = false;
      for (let attempt = 0; attempt <= person.mistakes; attempt++) {
        const password = attempt < person.mistakes ? `${person.password} typo ${attempt}` : person.password;
        const { payload, headers } = withRegion({ method: "password", identifier: input.value, password }, input);
        const result = await client.submit("login", payload, { headers });
        refused ||= result.refused;
        tally(refusals.real, result);
        if (attempt === person.mistakes && !result.signedIn) realNotSignedIn++;
      }
      if (refused) realRefused++;
    });
  }
  const started = performance.now();
  await pool(shuffle(tasks, rng), CONCURRENCY);
  return {
    attempts: n.attempts,
    clients: n.clients,
    reachedKratos,
    refusedByShield,
    refusals,
    realUsers: n.real,
    behindNat: people.filter((p) => p.nat).length,
    realRefused,
    realNotSignedIn,
    kratosCounted: { failed: standin.counts.loginsFailed, succeeded: standin.counts.loginsSucceeded },
    unrefused: { failed: n.attempts + people.reduce((sum, p) => sum + p.mistakes, 0), succeeded: n.real },
    seconds: (performance.now() - started) / 1000,
  };
}

export interface LockoutVictim {
  flow: "api" | "browser";
  /** The known client's sign-in before the attack, and whether it was handed a device marker. */
  before: boolean;
  marker: boolean;
  attempts: number;
  reachedKratos: number;
  /** The victim's first try after the attack, from the known client: signed in, or the shield's reason. */
  after: string;
  /** The right password from a client the shield has never seen, just before the victim's try: what an attacker holding it gets. */
  stranger: string;
}

export interface LockoutFigures {
  clients: number;
  victims: LockoutVictim[];
  refusals: Record<string, number>;
  seconds: number;
}

/**
 * A lockout attack: wrong passwords for one victim from many clients, then the victim signs in
 * from the client it used before (with the device marker the gateway gave it). Twice: a native
 * app (API flow, the marker in a header) and a browser (JSON browser flow, the marker a cookie).
 */
export async function lockout(ctx: RunContext): Promise<LockoutFigures> {
  const rng = random(2);
  const clients = scaled(200, ctx.scale);
  const perClient = 5;
  const victims = [
    { flow: "api" as const, phone: randomMobile(rng), password: "victim password api" },
    { flow: "browser" as const, phone: randomMobile(rng), password: "victim password browser" },
  ];
  const reached = new Map<string, number>();
  let attacking = false;
  const { gateway } = await ctx.start(
    victims.map((v) => ({ identifier: v.phone.e164, password: v.password })),
    (submit) => {
      if (attacking && submit.identifier !== undefined) reached.set(submit.identifier, (reached.get(submit.identifier) ?? 0) + 1);
    },
  );
  const known = victims.map((v, i) => new Client(gateway.url, address(81, 9000 + i), v.flow === "browser"));
  const before = await Promise.all(
    victims.map(async (v, i) => {
      const client = known[i] as Client;
      const result = await client.submit("login", { method: "password", identifier: v.phone.e164, password: v.password });
      client.logout();
      return { signedIn: result.signedIn, marker: client.device !== undefined };
    }),
  );
  const refusals: Record<string, number> = {};
  const tasks: (() => Promise<void>)[] = [];
  for (let c = 0; c < clients; c++) {
    for (const [v, victim] of victims.entries()) {
      const attacker = new Client(gateway.url, address(45, c * victims.length + v), victim.flow === "browser");
      for (let k = 0; k < perClient; k++) {
        tasks.push(async () => {
          tally(
            refusals,
            await attacker.submit("login", { method: "password", identifier: victim.phone.e164, password: `guess ${c}.${k}` }),
          );
        });
      }
    }
  }
  attacking = true;
  const started = performance.now();
  await pool(shuffle(tasks, rng), CONCURRENCY);
  const seconds = (performance.now() - started) / 1000;
  attacking = false;
  const verdict = (result: Result) =>
    result.signedIn ? "signed in" : result.refused ? `refused (${result.reason})` : `status ${result.status}`;
  const figures: LockoutVictim[] = [];
  for (const [i, victim] of victims.entries()) {
    const payload = { method: "password", identifier: victim.phone.e164, password: victim.password };
    // The stranger first: a success resets the identifier's counters, and would hide the lock.
    const stranger = await new Client(gateway.url, address(81, 9100 + i), victim.flow === "browser").submit("login", payload);
    const after = await (known[i] as Client).submit("login", payload);
    figures.push({
      flow: victim.flow,
      before: before[i]?.signedIn ?? false,
      marker: before[i]?.marker ?? false,
      attempts: clients * perClient,
      reachedKratos: reached.get(victim.phone.e164) ?? 0,
      after: verdict(after),
      stranger: verdict(stranger),
    });
  }
  return { clients, victims: figures, refusals, seconds };
}

export interface SmsFigures {
  pumped: number;
  clients: number;
  ranges: number;
  /** Codes the stand-in "sent" to pumped numbers. */
  pumpedSent: number;
  pumpedRefused: number;
  signUps: number;
  behindNat: number;
  /** Real sign-ups the shield refused. */
  signUpsRefused: number;
  /** Real sign-ups whose code went out (state sent_email). */
  signUpsSent: number;
  /** The shield's reasons, for pumped requests and for real sign-ups. */
  refusals: { attack: Record<string, number>; real: Record<string, number> };
  /** The stand-in's count of every text, and what it would be were nothing refused (sign-ups by code; code logins of unknown numbers send none). */
  kratosTexts: number;
  unrefusedTexts: number;
  seconds: number;
}

/**
 * SMS pumping: code requests (sign-ups by code, and code logins) from many clients to premium-rate
 * ranges and sequential numbers of mobile blocks, interleaved with a normal population signing
 * up by code with random mobile numbers typed in every format the gateway reads.
 */
export async function smsPumping(ctx: RunContext): Promise<SmsFigures> {
  const rng = random(3);
  const ranges = pumpRanges();
  const n = {
    pumped: scaled(10_000, ctx.scale),
    clients: scaled(200, ctx.scale),
    signUps: scaled(2_000, ctx.scale),
    nats: scaled(10, ctx.scale),
  };
  const { standin, gateway } = await ctx.start([]);
  const attackers = Array.from({ length: n.clients }, (_, i) => new Client(gateway.url, address(45, i)));
  const pumpedNumbers = new Set<string>();
  let pumpedSignUps = 0;
  const refusals = { attack: {} as Record<string, number>, real: {} as Record<string, number> };
  let pumpedRefused = 0;
  const tasks: (() => Promise<void>)[] = [];
  for (let i = 0; i < n.pumped; i++) {
    const number = (ranges[i % ranges.length] as (typeof ranges)[number]).next(rng);
    pumpedNumbers.add(number);
    const client = attackers[Math.floor(rng() * n.clients)] as Client;
    const register = rng() < 0.8;
    if (register) pumpedSignUps++;
    tasks.push(async () => {
      const result = register
        ? await client.submit("registration", { method: "code", traits: { phone: number } }, { query: "?identity_schema=phone" })
        : await client.submit("login", { method: "code", identifier: number });
      if (result.refused) pumpedRefused++;
      tally(refusals.attack, result);
    });
  }
  const people: PhoneNumber[] = [];
  let signUpsRefused = 0;
  let signUpsSent = 0;
  let behindNat = 0;
  for (let i = 0; i < n.signUps; i++) {
    const phone = randomMobile(rng);
    people.push(phone);
    const input = typed(phone, rng);
    const nat = i % 10 === 0;
    const client = new Client(gateway.url, nat ? address(62, behindNat++ % n.nats) : address(81, i));
    tasks.push(async () => {
      const { payload, headers } = withRegion({ method: "code", traits: { phone: input.value } }, input);
      const result = await client.submit("registration", payload, { headers, query: "?identity_schema=phone" });
      if (result.refused) signUpsRefused++;
      if (result.state === "sent_email") signUpsSent++;
      tally(refusals.real, result);
    });
  }
  const started = performance.now();
  await pool(shuffle(tasks, rng), CONCURRENCY);
  let pumpedSent = 0;
  for (const number of pumpedNumbers) pumpedSent += standin.counts.smsSent.get(number) ?? 0;
  return {
    pumped: n.pumped,
    clients: n.clients,
    ranges: ranges.length,
    pumpedSent,
    pumpedRefused,
    signUps: n.signUps,
    behindNat,
    signUpsRefused,
    signUpsSent,
    kratosTexts: standin.smsTotal(),
    unrefusedTexts: pumpedSignUps + n.signUps,
    refusals,
    seconds: (performance.now() - started) / 1000,
  };
}

export interface CostFigures {
  samples: number;
  /** Per gateway: a successful and a failed password login submit, ms. */
  latency: Record<string, { success: { p50: number; p99: number }; failure: { p50: number; p99: number } }>;
}

/**
 * What the shield adds to one login submit: the gateways take turns request by request (one in
 * flight), each submit from a client and for an identifier seen nowhere else, so that no budget
 * is reached and every submit is counted and forwarded. Only the submit is timed, not the flow.
 */
export async function cost(standin: KratosStandIn, gateways: readonly Gateway[], samples: number): Promise<CostFigures> {
  const warmup = Math.min(200, samples);
  const rounds = warmup + samples;
  const users = Array.from({ length: rounds * gateways.length }, (_, i) => ({
    identifier: `+4915${String(100_000_000 + i)}`,
    password: `cost ${i}`,
  }));
  standin.seed(users);
  const times = gateways.map(() => ({ success: [] as number[], failure: [] as number[] }));
  let next = 0;
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < gateways.length; k++) {
      const g = (round + k) % gateways.length;
      const gateway = gateways[g] as Gateway;
      const user = users[next] as StandInUser;
      const ip = next++;
      for (const kind of ["success", "failure"] as const) {
        const client = new Client(gateway.url, address(kind === "success" ? 91 : 92, ip));
        const flow = await client.flow("login");
        const password = kind === "success" ? user.password : "wrong";
        const result = await client.submitTo("login", flow, { method: "password", identifier: user.identifier, password });
        if (round >= warmup) times[g]?.[kind].push(result.ms);
      }
    }
  }
  const latency: CostFigures["latency"] = {};
  for (const [g, gateway] of gateways.entries()) {
    const { success, failure } = times[g] as { success: number[]; failure: number[] };
    latency[gateway.mode] = { success: summarize(success), failure: summarize(failure) };
  }
  return { samples, latency };
}
