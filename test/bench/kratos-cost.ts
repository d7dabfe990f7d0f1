// The "real Kratos" section of `npm run bench`: what our hooks add to a sign-up and a login, as
// a person waits for them. Two real Kratos v1.3.1 processes run side by side: the project's
// kratos.yml, and the same with every web_hook removed; registration and login submits alternate
// between them. Our own share is the server time our log line reports for each call.
import { randomUUID } from "node:crypto";
import { Agent } from "node:http";
import { fileURLToPath } from "node:url";
import { resolveKratos } from "../../src/cli/kratos-binary.js";
import { hookLog, type Stack, startStack } from "../e2e/stack.js";
import { type LatencyFigures, summarize, timedRequest } from "./interleaved.js";
import { table } from "./table.js";

const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));

export interface KratosCostFigures {
  registration: { withHooks: LatencyFigures & { p90: number }; without: LatencyFigures & { p90: number } };
  login: { withHooks: LatencyFigures & { p90: number }; without: LatencyFigures & { p90: number } };
  /** Our server time per call, from our log lines (durationMs), by hook. */
  ours: Record<string, { n: number; p50: number; p90: number }>;
}

/** Removes every web_hook from a kratos.yml (the `session` and other hooks stay). */
function withoutWebhooks(node: unknown): void {
  if (Array.isArray(node)) {
    for (let i = node.length - 1; i >= 0; i--) if ((node[i] as { hook?: string })?.hook === "web_hook") node.splice(i, 1);
  }
  if (node !== null && typeof node === "object") for (const value of Object.values(node)) withoutWebhooks(value);
}

const p90 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)] ?? Number.NaN;
const figures = (values: number[]) => ({ ...summarize(values), p90: p90(values) });

async function flowId(stack: Stack, kind: "registration" | "login"): Promise<string> {
  const res = await fetch(`${stack.kratosPublic}/self-service/${kind}/api`, { headers: { accept: "application/json" } });
  return ((await res.json()) as { id: string }).id;
}

export async function measureKratosCost(quick: boolean): Promise<KratosCostFigures> {
  const kratosBin = resolveKratos().path;
  const hooked = await startStack({}, { kratosBin, hooksLog: `${RESULTS}kratos-cost-hooks.log` });
  const bare = await startStack({}, { kratosBin, editKratos: (config) => withoutWebhooks(config.selfservice) });
  try {
    const rounds = quick ? 20 : 200;
    const samples = {
      registration: { withHooks: [] as number[], without: [] as number[] },
      login: { withHooks: [] as number[], without: [] as number[] },
    };
    const agents = new Map([hooked, bare].map((s) => [s, new Agent({ keepAlive: true, maxSockets: 1 })]));
    const password = `bench password ${randomUUID()}`;
    const emails = new Map<Stack, string[]>([
      [hooked, []],
      [bare, []],
    ]);
    const logBefore = hookLog(hooked).length;
    for (let round = 0; round < rounds; round++) {
      // Which Kratos goes first alternates, so that neither always follows the other's work.
      for (const stack of round % 2 === 0 ? [hooked, bare] : [bare, hooked]) {
        const side = stack === hooked ? "withHooks" : "without";
        const email = `cost-${round}-${side}@example.org`;
        const registration = await timedRequest(
          {
            name: "registration",
            url: `${stack.kratosPublic}/self-service/registration?flow=${await flowId(stack, "registration")}`,
            method: "POST",
            headers: { accept: "application/json", "content-type": "application/json" },
            body: JSON.stringify({ method: "password", password, traits: { email } }),
          },
          agents.get(stack) as Agent,
        );
        if (registration.status !== 200) throw new Error(`registration on the ${side} Kratos answered ${registration.status}`);
        emails.get(stack)?.push(email);
        const login = await timedRequest(
          {
            name: "login",
            url: `${stack.kratosPublic}/self-service/login?flow=${await flowId(stack, "login")}`,
            method: "POST",
            headers: { accept: "application/json", "content-type": "application/json" },
            body: JSON.stringify({ method: "password", identifier: email, password }),
          },
          agents.get(stack) as Agent,
        );
        if (login.status !== 200) throw new Error(`login on the ${side} Kratos answered ${login.status}`);
        if (round > 0) {
          samples.registration[side].push(registration.ms);
          samples.login[side].push(login.ms);
        }
      }
    }
    for (const agent of agents.values()) agent.destroy();
    const calls = hookLog(hooked).slice(logBefore);
    const ours: KratosCostFigures["ours"] = {};
    for (const hook of ["registration-before", "registration-after", "login-before", "login-after"]) {
      const durations = calls.filter((l) => l.hook === hook).map((l) => Number(l.durationMs));
      ours[hook] = { n: durations.length, p50: summarize(durations).p50, p90: p90(durations) };
    }
    return {
      registration: { withHooks: figures(samples.registration.withHooks), without: figures(samples.registration.without) },
      login: { withHooks: figures(samples.login.withHooks), without: figures(samples.login.without) },
      ours,
    };
  } finally {
    await Promise.all([hooked.stop(), bare.stop()]);
  }
}

const ms = (n: number) => n.toFixed(2);

export function kratosCostReport(f: KratosCostFigures): { lines: string[]; targets: [string, number, number, "≥" | "≤"][] } {
  const rows = [["submit (Kratos v1.3.1, password, one connection)", "p50 ms", "p90 ms"]];
  for (const [name, pair] of [
    ["registration", f.registration],
    ["login", f.login],
  ] as const) {
    rows.push([`${name}: Kratos without web_hooks (n=${pair.without.n})`, ms(pair.without.p50), ms(pair.without.p90)]);
    rows.push([`${name}: Kratos with our hooks (n=${pair.withHooks.n})`, ms(pair.withHooks.p50), ms(pair.withHooks.p90)]);
    rows.push([`${name}: added by the hooks`, ms(pair.withHooks.p50 - pair.without.p50), ms(pair.withHooks.p90 - pair.without.p90)]);
  }
  for (const [hook, o] of Object.entries(f.ours)) rows.push([`our server time per call, ${hook} (n=${o.n})`, ms(o.p50), ms(o.p90)]);
  const share = Math.max(...Object.values(f.ours).map((o) => o.p50));
  return {
    lines: ["Real Kratos: what a hook adds, two Kratos processes side by side (with and without every web_hook)", table(rows)],
    targets: [["our share ≤ 0.3 ms p50 per call, as Kratos calls it (the slowest hook)", Number(share.toFixed(2)), 0.3, "≤"]],
  };
}
