// `npm run bench:shield`: the shield (login protection and SMS budgets) under simulated attacks,
// through the real gateway process in front of the Kratos stand-in (test/support/kratos-standin.ts),
// every scenario three times: shield off (the baseline: what reaches Kratos without it), on with
// the memory store, on with Redis on loopback. Then what it costs per login submit, the three
// gateways taking turns. Nothing here fails on a figure: each target is printed met or MISSED.
// `--quick`: every population a tenth, 300 latency samples.
import { mkdirSync, writeFileSync } from "node:fs";
import { Redis } from "ioredis";
import { type KratosStandIn, type StandInSubmit, type StandInUser, startKratosStandIn } from "../support/kratos-standin.js";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { effectiveConfig, type Gateway, RESULTS, type ShieldMode, startGateway } from "./shield-driver.js";
import {
  CONCURRENCY,
  type CostFigures,
  cost,
  credentialStuffing,
  type LockoutFigures,
  lockout,
  type RunContext,
  smsPumping,
} from "./shield-scenarios.js";
import { table } from "./table.js";

const quick = process.argv.includes("--quick");
const scale = quick ? 0.1 : 1;
const MODES: readonly ShieldMode[] = ["off", "memory", "redis"];
const SHIELD_MODES = MODES.filter((m) => m !== "off");
const config = effectiveConfig().gateway.shield;
mkdirSync(RESULTS, { recursive: true });

const problems: string[] = [];
/** Redis runs whose store stayed empty: the service did not use GATEWAY_SHIELD_REDIS_URL. */
const redisUnused: string[] = [];

/** One scenario in one mode: a fresh stand-in, a fresh gateway, and for Redis a fresh redis-server; all stopped after. */
async function runIn<T>(scenario: string, mode: ShieldMode, run: (ctx: RunContext) => Promise<T>): Promise<T> {
  const started: { standin?: KratosStandIn; gateway?: Gateway; redis?: RedisServer } = {};
  const ctx: RunContext = {
    mode,
    scale,
    async start(users: StandInUser[], onSubmit?: (submit: StandInSubmit) => void) {
      if (mode === "redis") started.redis = await startRedisServer();
      started.standin = await startKratosStandIn({ users, onSubmit });
      started.gateway = await startGateway(started.standin.url, mode, started.redis?.url, `${scenario}-${mode}`);
      return { standin: started.standin, gateway: started.gateway };
    },
  };
  process.stderr.write(`bench:shield: ${scenario}, shield ${mode}…\n`);
  try {
    return await run(ctx);
  } finally {
    if (started.redis !== undefined && (await redisKeys(started.redis.url)) === 0) redisUnused.push(scenario);
    await started.gateway?.stop();
    await started.standin?.close();
    await started.redis?.stop();
  }
}

async function redisKeys(url: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    return await client.dbsize();
  } catch {
    return 0;
  } finally {
    client.disconnect();
  }
}

async function inEveryMode<T>(scenario: string, run: (ctx: RunContext) => Promise<T>): Promise<Record<ShieldMode, T>> {
  const out: Partial<Record<ShieldMode, T>> = {};
  for (const mode of MODES) out[mode] = await runIn(scenario, mode, run);
  return out as Record<ShieldMode, T>;
}

const stuffing = await inEveryMode("stuffing", credentialStuffing);
const lockouts = await inEveryMode("lockout", lockout);
const sms = await inEveryMode("sms", smsPumping);

// The cost: one stand-in, the three gateways side by side in front of it.
let costFigures: CostFigures;
{
  const redis = await startRedisServer();
  const standin = await startKratosStandIn();
  const gateways: Gateway[] = [];
  try {
    for (const mode of MODES) gateways.push(await startGateway(standin.url, mode, redis.url, `cost-${mode}`));
    process.stderr.write("bench:shield: cost of a login submit…\n");
    costFigures = await cost(standin, gateways, quick ? 300 : 2000);
    if ((await redisKeys(redis.url)) === 0) redisUnused.push("cost");
  } finally {
    for (const gateway of gateways) await gateway.stop();
    await standin.close();
    await redis.stop();
  }
}

// ── Report ──────────────────────────────────────────────────────────────────────────────────────
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const pct = (part: number, whole: number, digits = 2) => `${((100 * part) / Math.max(1, whole)).toFixed(digits)} %`;
const ms = (n: number) => n.toFixed(2);
const reasons = (r: Record<string, number>) =>
  Object.entries(r)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${int(v)}`)
    .join(", ") || "none";
const byMode = <T>(figures: Record<ShieldMode, T>, cell: (f: T) => string) => MODES.map((m) => cell(figures[m]));
const header = ["", "shield off", "memory", "redis"];

const stuffingTable = table([
  header,
  ["stuffing attempts", ...byMode(stuffing, (f) => int(f.attempts))],
  ["… that reached Kratos", ...byMode(stuffing, (f) => int(f.reachedKratos))],
  ["… refused by the shield", ...byMode(stuffing, (f) => int(f.refusedByShield))],
  ["real users refused at least once", ...byMode(stuffing, (f) => `${int(f.realRefused)} / ${int(f.realUsers)}`)],
  ["real users not signed in at the end", ...byMode(stuffing, (f) => int(f.realNotSignedIn))],
  [
    "Kratos counted failed / succeeded logins",
    ...byMode(stuffing, (f) => `${int(f.kratosCounted.failed)} / ${int(f.kratosCounted.succeeded)}`),
  ],
  ["seconds", ...byMode(stuffing, (f) => f.seconds.toFixed(1))],
]);

const victimRows = (["api", "browser"] as const).flatMap((flow) => {
  const of = (f: LockoutFigures) => f.victims.find((v) => v.flow === flow);
  return [
    [
      `${flow}: signed in before, marker given`,
      ...byMode(lockouts, (f) => `${of(f)?.before ? "yes" : "no"}, ${of(f)?.marker ? "yes" : "no"}`),
    ],
    [
      `${flow}: attack attempts that reached Kratos`,
      ...byMode(lockouts, (f) => `${int(of(f)?.reachedKratos ?? 0)} / ${int(of(f)?.attempts ?? 0)}`),
    ],
    [`${flow}: the victim's first try after`, ...byMode(lockouts, (f) => of(f)?.after ?? "?")],
    [`${flow}: a new client with the password`, ...byMode(lockouts, (f) => of(f)?.stranger ?? "?")],
  ];
});
const lockoutTable = table([header, ...victimRows, ["seconds (attack)", ...byMode(lockouts, (f) => f.seconds.toFixed(1))]]);

const smsTable = table([
  header,
  ["pumped code requests", ...byMode(sms, (f) => int(f.pumped))],
  ["… texts sent to pumped numbers", ...byMode(sms, (f) => `${int(f.pumpedSent)} (${pct(f.pumpedSent, f.pumped)})`)],
  ["… refused by the shield", ...byMode(sms, (f) => int(f.pumpedRefused))],
  ["real sign-ups", ...byMode(sms, (f) => int(f.signUps))],
  ["… refused by the shield", ...byMode(sms, (f) => `${int(f.signUpsRefused)} (${pct(f.signUpsRefused, f.signUps, 3)})`)],
  ["… code sent", ...byMode(sms, (f) => int(f.signUpsSent))],
  ["texts Kratos sent in all", ...byMode(sms, (f) => int(f.kratosTexts))],
  ["seconds", ...byMode(sms, (f) => f.seconds.toFixed(1))],
]);

const off = costFigures.latency.off;
const costRows = MODES.flatMap((mode) => {
  const figures = costFigures.latency[mode];
  if (figures === undefined || off === undefined) return [];
  return (["success", "failure"] as const).map((kind) => {
    const { p50, p99 } = figures[kind];
    const base = off[kind];
    return [
      `${mode}, ${kind === "success" ? "right password" : "wrong password"}`,
      ms(p50),
      ms(p99),
      mode === "off" ? "" : `${p50 - base.p50 >= 0 ? "+" : ""}${ms(p50 - base.p50)}`,
      mode === "off" ? "" : `×${(p50 / base.p50).toFixed(2)}`,
      mode === "off" ? "" : `${p99 - base.p99 >= 0 ? "+" : ""}${ms(p99 - base.p99)}`,
      mode === "off" ? "" : `×${(p99 / base.p99).toFixed(2)}`,
    ];
  });
});
const costTable = table([["login submit (ms)", "p50", "p99", "+p50", "×p50", "+p99", "×p99"], ...costRows]);

// ── Targets: each stated with the configuration it is read from, per store ───────────────────────
type Target = [name: string, met: boolean, figure: string];
const targets: Target[] = [];
const { clientLockAfter } = config.login;
for (const mode of SHIELD_MODES) {
  const s = stuffing[mode];
  const bound = clientLockAfter * s.clients;
  targets.push([
    `[${mode}] stuffing attempts reaching Kratos ≤ login.clientLockAfter ${clientLockAfter} × ${int(s.clients)} clients = ${int(bound)}`,
    s.reachedKratos <= bound,
    `${int(s.reachedKratos)} of ${int(s.attempts)} (shield off: ${int(stuffing.off.reachedKratos)})`,
  ]);
  targets.push([
    `[${mode}] real users refused = 0`,
    s.realRefused === 0,
    `${int(s.realRefused)} of ${int(s.realUsers)} (${int(s.behindNat)} behind NATs)`,
  ]);
  for (const victim of lockouts[mode].victims) {
    targets.push([
      `[${mode}] lockout (${victim.flow}): the victim signs in at the first try from its known client`,
      victim.after === "signed in",
      `${victim.after}; ${int(victim.reachedKratos)} of ${int(victim.attempts)} attack attempts reached Kratos`,
    ]);
  }
  const p = sms[mode];
  targets.push([
    `[${mode}] pumped texts sent ≤ 1 % of pumped requests`,
    p.pumpedSent <= 0.01 * p.pumped,
    `${int(p.pumpedSent)} of ${int(p.pumped)} = ${pct(p.pumpedSent, p.pumped)} (shield off: ${pct(sms.off.pumpedSent, sms.off.pumped)})`,
  ]);
  targets.push([
    `[${mode}] real sign-ups refused < 0.1 %`,
    p.signUpsRefused < 0.001 * p.signUps,
    `${int(p.signUpsRefused)} of ${int(p.signUps)} = ${pct(p.signUpsRefused, p.signUps, 3)}`,
  ]);
}
const redisCost = costFigures.latency.redis;
if (redisCost !== undefined && off !== undefined) {
  const added = redisCost.success.p50 - off.success.p50;
  targets.push([
    "[redis] p50 added to a login submit ≤ 1 ms",
    added <= 1,
    `${ms(added)} ms right password (p50 ${ms(redisCost.success.p50)} vs ${ms(off.success.p50)} off); ${ms(redisCost.failure.p50 - off.failure.p50)} ms wrong password`,
  ]);
}

// ── The driver's own checks, on the shield-off runs: the stand-in saw everything that was sent ───
const checks: Target[] = [
  [
    "shield off: every stuffing attempt reached Kratos",
    stuffing.off.reachedKratos === stuffing.off.attempts,
    `${int(stuffing.off.reachedKratos)} = ${int(stuffing.off.attempts)}`,
  ],
  [
    "shield off: Kratos counted every failed and successful login",
    stuffing.off.kratosCounted.failed === stuffing.off.unrefused.failed &&
      stuffing.off.kratosCounted.succeeded === stuffing.off.unrefused.succeeded,
    `${int(stuffing.off.kratosCounted.failed)} / ${int(stuffing.off.kratosCounted.succeeded)}, expected ${int(stuffing.off.unrefused.failed)} / ${int(stuffing.off.unrefused.succeeded)}`,
  ],
  ["shield off: every real user signed in", stuffing.off.realNotSignedIn === 0, `${int(stuffing.off.realNotSignedIn)} not signed in`],
  [
    "shield off: every lockout attempt reached Kratos",
    lockouts.off.victims.every((v) => v.reachedKratos === v.attempts),
    lockouts.off.victims.map((v) => `${v.flow} ${int(v.reachedKratos)}/${int(v.attempts)}`).join(", "),
  ],
  [
    "shield off: a text for every sign-up by code, none for code logins of unknown numbers",
    sms.off.kratosTexts === sms.off.unrefusedTexts && sms.off.signUpsSent === sms.off.signUps,
    `${int(sms.off.kratosTexts)} texts, expected ${int(sms.off.unrefusedTexts)}; ${int(sms.off.signUpsSent)} of ${int(sms.off.signUps)} sign-ups sent`,
  ],
];
if (redisUnused.length > 0) {
  problems.push(
    `the Redis runs left Redis empty (${redisUnused.join(", ")}): the service did not use GATEWAY_SHIELD_REDIS_URL, so the "redis" column is the memory store's`,
  );
}
const lines = (list: Target[]) => list.map(([name, met, figure]) => `  ${met ? "met   " : "MISSED"} ${name}: ${figure}`);

const report = [
  `Shield under attack, ${quick ? "quick run (populations ÷ 10)" : "full run"}: the gateway (tsx src/adapters/node.ts, NODE_ENV=production, log to a file) in front of the Kratos stand-in, ${CONCURRENCY} requests in flight, clients told apart by X-Forwarded-For (gateway.trustForwardedHeaders).`,
  `Shield configuration: the defaults (login.clientLockAfter ${clientLockAfter}, lockAfter ${config.login.lockAfter}, identifierLockAfter ${config.login.identifierLockAfter}, clientCreditPerSuccess ${config.login.clientCreditPerSuccess}; sms.perNumber ${config.sms.perNumber}, perClient ${config.sms.perClient}, perPrefix ${config.sms.perPrefix}, perCountry ${config.sms.perCountry}), but sms.perMinute ${int(config.sms.perMinute)}: the bench compresses a window into seconds.`,
  "",
  `Credential stuffing: ${int(stuffing.off.attempts)} wrong passwords over ${int(stuffing.off.attempts / 2)} accounts from ${int(stuffing.off.clients)} clients, with ${int(stuffing.off.realUsers)} real users (0–2 typos, then the right password; ${int(stuffing.off.behindNat)} of them behind carrier NATs). Refusals (memory): attack: ${reasons(stuffing.memory.refusals.attack)}; real users: ${reasons(stuffing.memory.refusals.real)}.`,
  stuffingTable,
  "",
  `Lockout: ${int(lockouts.off.clients)} clients × 5 wrong passwords for each victim; then the victim, from the client it signed in with before. Refusals (memory): ${reasons(lockouts.memory.refusals)}.`,
  lockoutTable,
  "",
  `SMS pumping: ${int(sms.off.pumped)} code requests (80 % sign-ups by code, 20 % code logins) from ${int(sms.off.clients)} clients to ${sms.off.ranges} ranges (10 premium-rate, 10 sequential mobile blocks), with ${int(sms.off.signUps)} real sign-ups by code (random mobiles, every format; ${int(sms.off.behindNat)} behind NATs). Refusals (memory): pumped: ${reasons(sms.memory.refusals.attack)}; real sign-ups: ${reasons(sms.memory.refusals.real)}.`,
  smsTable,
  "",
  `Cost: a password login submit, the three gateways taking turns, one request in flight, ${int(costFigures.samples)} samples each; differences and ratios against shield off.`,
  costTable,
  "",
  "Targets:",
  ...lines(targets),
  "",
  "Driver checks (the stand-in's counts):",
  ...lines(checks),
  ...(quick
    ? [
        "",
        "Quick run: the budgets are per window and do not shrink with the populations (10 mobile blocks × sms.perPrefix, 50 clients × login.clientLockAfter), so a target stated as a share weighs them ten times more; judge the targets on the full run.",
      ]
    : []),
  ...problems.map((p) => `\nNOTE: ${p}`),
].join("\n");
process.stdout.write(`\n${report}\n`);

const file = `${RESULTS}shield-${new Date().toISOString().replace(/[:.]/g, "-")}${quick ? "-quick" : ""}.json`;
writeFileSync(
  file,
  `${JSON.stringify({ quick, concurrency: CONCURRENCY, config, stuffing, lockouts, sms, cost: costFigures, targets, checks, problems }, null, 2)}\n`,
);
process.stdout.write(`\nWritten to ${file}\n`);
// A broken driver (a check failed) fails the run; a missed target never does.
if (checks.some(([, met]) => !met)) process.exitCode = 1;
