// The "real Kratos" section of `npm run bench`: what our hooks add to a sign-up and a login, as
// a person waits for them, on each tested Kratos release (v1.3.1 and v26.2.0) side by side. Per
// release, two real Kratos processes run: the project's kratos.yml, and the same with every
// web_hook removed. All four take turns in one loop, so whatever else the machine does at a
// moment hits them alike. Our own share is the server time our log line reports for each call.
import { randomUUID } from "node:crypto";
import { Agent } from "node:http";
import { fileURLToPath } from "node:url";
import {
  KratosToolchainError,
  KratosUnavailableError,
  kratosBinEnv,
  resolveReportingKratos,
  TESTED_KRATOS_VERSIONS,
  type TestedKratosVersion,
} from "../../src/cli/kratos-binary.js";
import { hookLog, type Stack, startStack } from "../e2e/stack.js";
import { type LatencyFigures, summarize, timedRequest } from "./interleaved.js";
import { table } from "./table.js";

const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));
const HOOKS = ["registration-before", "registration-after", "login-before", "login-after"] as const;

type Latency = LatencyFigures & { p90: number };
/** One submit on one release: without web_hooks, with ours, and with ÷ without (1.10 = 10 % longer with our hooks). */
interface FlowFigures {
  withHooks: Latency;
  without: Latency;
  ratio: { p50: number; p90: number };
}

export type KratosCostVersion =
  | {
      measured: true;
      /** The binary measured, and where it came from (cache, KRATOS_BIN_V…, …). */
      binary: string;
      source: string;
      registration: FlowFigures;
      login: FlowFigures;
      /** Our server time per call, from our log lines (durationMs), by hook. */
      ours: Record<string, { n: number; p50: number; p90: number }>;
    }
  | {
      measured: false;
      /** Why it was not measured, naming the override that would fix it. */
      reason: string;
    };

export interface KratosCostFigures {
  /** Rounds measured (after one warm-up round); in each, every process takes one registration and one login. */
  rounds: number;
  versions: Record<TestedKratosVersion, KratosCostVersion>;
}

/** Removes every web_hook from a kratos.yml (the `session` and other hooks stay). */
function withoutWebhooks(node: unknown): void {
  if (Array.isArray(node)) {
    for (let i = node.length - 1; i >= 0; i--) if ((node[i] as { hook?: string })?.hook === "web_hook") node.splice(i, 1);
  }
  if (node !== null && typeof node === "object") for (const value of Object.values(node)) withoutWebhooks(value);
}

const p90 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)] ?? Number.NaN;
const figures = (values: number[]): Latency => ({ ...summarize(values), p90: p90(values) });
const flow = (withHooks: number[], without: number[]): FlowFigures => {
  const [w, o] = [figures(withHooks), figures(without)];
  return { withHooks: w, without: o, ratio: { p50: Number((w.p50 / o.p50).toFixed(3)), p90: Number((w.p90 / o.p90).toFixed(3)) } };
};

/**
 * The binary of one release, or why there is none. Not found, and not buildable here, are
 * reported rather than thrown, naming the override; so is a binary that says it is another
 * release (its column would be mislabelled). Any other failure (a build that breaks) throws.
 */
function findBinary(version: TestedKratosVersion): { path: string; source: string } | { reason: string } {
  const override = kratosBinEnv(version);
  try {
    const binary = resolveReportingKratos(version);
    return { path: binary.path, source: binary.source };
  } catch (error) {
    if (!(error instanceof KratosUnavailableError || error instanceof KratosToolchainError)) throw error;
    return { reason: error.message.includes(override) ? error.message : `${error.message} (or set ${override}=/path/to/kratos)` };
  }
}

async function flowId(stack: Stack, kind: "registration" | "login"): Promise<string> {
  const res = await fetch(`${stack.kratosPublic}/self-service/${kind}/api`, { headers: { accept: "application/json" } });
  return ((await res.json()) as { id: string }).id;
}

interface Side {
  version: TestedKratosVersion;
  side: "withHooks" | "without";
  stack: Stack;
  agent: Agent;
  registration: number[];
  login: number[];
}

/**
 * The order of the four processes in one round. Which release goes first alternates every round,
 * and which side of a release (with or without hooks) goes first every other round, so over four
 * rounds each process takes each place it can; a release's two processes always run back to back,
 * so its with ÷ without ratio compares submits made moments apart.
 */
function order(sides: Side[], round: number): Side[] {
  const versions = [...new Set(sides.map((s) => s.version))];
  if (round % 2 === 1) versions.reverse();
  return versions.flatMap((version) => {
    const pair = sides.filter((s) => s.version === version);
    return Math.floor(round / 2) % 2 === 1 ? pair.reverse() : pair;
  });
}

async function submit(s: Side, password: string, email: string): Promise<{ registration: number; login: number }> {
  const where = `the ${s.side === "withHooks" ? "hooked" : "bare"} Kratos ${s.version}`;
  const registration = await timedRequest(
    {
      name: "registration",
      url: `${s.stack.kratosPublic}/self-service/registration?flow=${await flowId(s.stack, "registration")}`,
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({ method: "password", password, traits: { email } }),
    },
    s.agent,
  );
  if (registration.status !== 200)
    throw new Error(`registration on ${where} answered ${registration.status}: ${registration.body.slice(0, 2000)}`);
  const login = await timedRequest(
    {
      name: "login",
      url: `${s.stack.kratosPublic}/self-service/login?flow=${await flowId(s.stack, "login")}`,
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json" },
      body: JSON.stringify({ method: "password", identifier: email, password }),
    },
    s.agent,
  );
  if (login.status !== 200) throw new Error(`login on ${where} answered ${login.status}: ${login.body.slice(0, 2000)}`);
  return { registration: registration.ms, login: login.ms };
}

export async function measureKratosCost(quick: boolean): Promise<KratosCostFigures> {
  const rounds = quick ? 20 : 200;
  const versions = {} as Record<TestedKratosVersion, KratosCostVersion>;
  const found = new Map<TestedKratosVersion, { path: string; source: string }>();
  for (const version of TESTED_KRATOS_VERSIONS) {
    const binary = findBinary(version);
    if ("reason" in binary) versions[version] = { measured: false, reason: binary.reason };
    else found.set(version, binary);
  }
  const sides: Side[] = [];
  try {
    for (const [version, binary] of found) {
      const sideOf = (side: Side["side"], stack: Stack): Side => {
        return { version, side, stack, agent: new Agent({ keepAlive: true, maxSockets: 1 }), registration: [], login: [] };
      };
      // Only the hooked process's hooks are called; its log goes to a file, as in production.
      sides.push(
        sideOf("withHooks", await startStack({}, { kratosBin: binary.path, hooksLog: `${RESULTS}kratos-cost-hooks-${version}.log` })),
      );
      sides.push(sideOf("without", await startStack({}, { kratosBin: binary.path, editKratos: (c) => withoutWebhooks(c.selfservice) })));
    }
    const password = `bench password ${randomUUID()}`;
    // Round 0 warms every process up and is not counted, nor are its hook calls.
    let logBefore = new Map<TestedKratosVersion, number>();
    for (let round = 0; round <= rounds; round++) {
      if (round === 1) logBefore = new Map(sides.filter((s) => s.side === "withHooks").map((s) => [s.version, hookLog(s.stack).length]));
      for (const s of order(sides, round)) {
        const ms = await submit(s, password, `cost-${round}-${s.side}@example.org`);
        if (round > 0) {
          s.registration.push(ms.registration);
          s.login.push(ms.login);
        }
      }
    }
    for (const [version, binary] of found) {
      const [hooked, bare] = (["withHooks", "without"] as const).map((side) =>
        sides.find((s) => s.version === version && s.side === side),
      ) as [Side, Side];
      const calls = hookLog(hooked.stack).slice(logBefore.get(version));
      const ours: Record<string, { n: number; p50: number; p90: number }> = {};
      for (const hook of HOOKS) {
        const durations = calls.filter((l) => l.hook === hook).map((l) => Number(l.durationMs));
        ours[hook] = { n: durations.length, p50: summarize(durations).p50, p90: p90(durations) };
      }
      versions[version] = {
        measured: true,
        binary: binary.path,
        source: binary.source,
        registration: flow(hooked.registration, bare.registration),
        login: flow(hooked.login, bare.login),
        ours,
      };
    }
    return { rounds, versions };
  } finally {
    for (const s of sides) s.agent.destroy();
    await Promise.all(sides.map((s) => s.stack.stop()));
  }
}

const ms = (n: number) => n.toFixed(2).padStart(6);
const cell = (a: number, b: number) => `${ms(a)} / ${ms(b)}`;
const times = (n: number) => `${n.toFixed(2).padStart(5)} ×`;

export interface KratosCostReport {
  lines: string[];
  targets: [string, number, number, "≥" | "≤"][];
  /** One line per tested release that was not measured (the bench exits non-zero for it: see run.ts). */
  unavailable: string[];
}

export function kratosCostReport(f: KratosCostFigures): KratosCostReport {
  const columns = TESTED_KRATOS_VERSIONS.map((version) => ({ version, figures: f.versions[version] }));
  const row = (label: string, value: (v: Extract<KratosCostVersion, { measured: true }>) => string) => [
    label,
    ...columns.map(({ figures: v }) => (v.measured ? value(v) : "not measured")),
  ];
  const rows = [["p50 / p90 ms (password, one connection each)", ...columns.map((c) => `Kratos ${c.version}`)]];
  for (const name of ["registration", "login"] as const) {
    rows.push(row(`${name}: Kratos without web_hooks`, (v) => cell(v[name].without.p50, v[name].without.p90)));
    rows.push(row(`${name}: Kratos with our hooks`, (v) => cell(v[name].withHooks.p50, v[name].withHooks.p90)));
    rows.push(
      row(`${name}: added by the hooks`, (v) =>
        cell(v[name].withHooks.p50 - v[name].without.p50, v[name].withHooks.p90 - v[name].without.p90),
      ),
    );
    rows.push(row(`${name}: with ÷ without`, (v) => `${times(v[name].ratio.p50)} / ${times(v[name].ratio.p90)}`));
  }
  for (const hook of HOOKS) {
    rows.push(row(`our server time per call, ${hook}`, (v) => cell(v.ours[hook]?.p50 ?? Number.NaN, v.ours[hook]?.p90 ?? Number.NaN)));
  }
  rows.push(
    row("submits per row; hook calls logged", (v) => {
      const calls = Object.values(v.ours).map((o) => o.n);
      const [low, high] = [Math.min(...calls), Math.max(...calls)];
      return `${v.registration.withHooks.n}; ${low === high ? low : `${low}–${high}`}`;
    }),
  );
  const unavailable = columns.flatMap(({ version, figures: v }) => (v.measured ? [] : [`Kratos ${version} NOT MEASURED: ${v.reason}`]));
  const targets = columns.flatMap(({ version, figures: v }) => {
    if (!v.measured) return [];
    const share = Math.max(...Object.values(v.ours).map((o) => o.p50));
    return [
      [`our share ≤ 0.3 ms p50 per call, as Kratos ${version} calls it (the slowest hook)`, Number(share.toFixed(2)), 0.3, "≤"] as [
        string,
        number,
        number,
        "≥" | "≤",
      ],
    ];
  });
  return {
    lines: [
      "Real Kratos: what a hook adds, per release two Kratos processes (with and without every web_hook), all four taking turns in one loop",
      table(rows),
      "with ÷ without: a submit's time on the release with our hooks over the same release without web_hooks, in the same run (1.10 = 10 % longer)",
      ...unavailable,
    ],
    targets,
    unavailable,
  };
}
