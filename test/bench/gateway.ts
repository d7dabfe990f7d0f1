// The gateway's section of `npm run bench`: what the gateway costs, measured side by side in one
// run. (1) Throughput against the limit, a bare node:http proxy doing the same forwarding, both
// in front of a stub upstream; (2) added latency at a low fixed rate against the same requests
// straight to the stub; (3) real Kratos v1.3.1, straight and through the gateway.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { fileURLToPath } from "node:url";
import type autocannon from "autocannon";
import { resolveKratos } from "../../src/cli/kratos-binary.js";
import { KratosClient, newPassword, passwordSignUp } from "../e2e/kratos-client.js";
import { freePort, type Running } from "../e2e/processes.js";
import { startStack } from "../e2e/stack.js";
import { closedLoop } from "./autocannon.js";
import { interleaved, type LatencyFigures, summarize, type Target, timedRequest } from "./interleaved.js";
import { startBenchServer } from "./server.js";
import { table } from "./table.js";

const RESULTS = fileURLToPath(new URL("./results/", import.meta.url));
const CONNECTIONS = 50;
const BENCH_KEY = "bench-key-0123456789abcdef";
const COOKIE =
  "ory_kratos_session=MTc2NDUwMDAwMHxEdi1CQkFFQ180SUFBUkFCRUFBQVJfLUNBQUVH; csrf_token_806060ca5bf70dff=Ar5sLuW8nXmCHq2v0M3zQ8Yc1d9gTfKa4JbE7wP0hVs=";
const LOGIN_PATH = "/self-service/login?flow=6f1d9a2e-0b7c-4e3a-9d5f-2c8b1a7e4f30";
const LOGIN_BODY = JSON.stringify({
  method: "password",
  csrf_token: "Ar5sLuW8nXmCHq2v0M3zQ8Yc1d9gTfKa4JbE7wP0hVsLb0j3kQm9XcA1Yt2Zr7Uw5Pn8Se4Df6Gh0Jk2Lm4No6Pq8Rs0T==",
  identifier: "0176 1234 5678",
  password: "correct horse battery staple 1234",
  transient_payload: { phone_region: "DE" },
});

interface Load {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}
const LOADS: Load[] = [
  {
    name: "GET /sessions/whoami (passthrough)",
    method: "GET",
    path: "/sessions/whoami",
    headers: { cookie: COOKIE, accept: "application/json" },
  },
  {
    name: "POST /self-service/login (body read; ours rewrites it)",
    method: "POST",
    path: LOGIN_PATH,
    headers: { cookie: COOKIE, accept: "application/json", "content-type": "application/json" },
    body: LOGIN_BODY,
  },
];

export interface Throughput {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

export interface GatewayFigures {
  throughput: Record<string, { ours: Throughput; limit: Throughput }>;
  addedLatency: Record<string, LatencyFigures>;
  kratos: { whoami: Record<string, LatencyFigures>; login: Record<string, LatencyFigures> } | { skipped: string };
}

function median(results: autocannon.Result[]): Throughput {
  const sorted = [...results].sort((a, b) => a.requests.average - b.requests.average);
  const mid = sorted[Math.floor(sorted.length / 2)] as autocannon.Result;
  return {
    requestsPerSecond: mid.requests.average,
    p50: mid.latency.p50,
    p99: mid.latency.p99,
    errors: results.reduce((n, r) => n + r.errors + r.timeouts + r.non2xx, 0),
  };
}

/** Both proxies must give the client the same status, cookies and body, or the comparison says nothing. */
async function sameAnswers(urls: string[]): Promise<void> {
  for (const load of LOADS) {
    const answers = await Promise.all(
      urls.map(async (url) => {
        const res = await fetch(`${url}${load.path}`, { method: load.method, headers: load.headers, body: load.body });
        return JSON.stringify([res.status, res.headers.getSetCookie(), await res.text()]);
      }),
    );
    if (new Set(answers).size !== 1) throw new Error(`the proxies answer ${load.name} differently:\n${answers.join("\n")}`);
  }
}

async function againstStub(quick: boolean): Promise<Pick<GatewayFigures, "throughput" | "addedLatency">> {
  const seconds = quick ? { warmup: 1, closed: 3, rounds: 1 } : { warmup: 2, closed: 5, rounds: 3 };
  const [stubPort, barePort, hooksPort, gatewayPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const stub = `http://127.0.0.1:${stubPort}`;
  const processes: Running[] = [];
  try {
    processes.push(
      await startBenchServer("stub", ["test/bench/stub-upstream.mjs"], { PORT: String(stubPort) }, `${RESULTS}stub.log`, stub),
    );
    const bare = `http://127.0.0.1:${barePort}`;
    processes.push(
      await startBenchServer(
        "limit",
        ["test/bench/bare-proxy.mjs"],
        { PORT: String(barePort), UPSTREAM: stub },
        `${RESULTS}bare.log`,
        bare,
      ),
    );
    const ours = `http://127.0.0.1:${gatewayPort}`;
    // As in production: keys of its own, one info log line per request, to a file.
    const env = {
      NODE_ENV: "production",
      HOOKS_API_KEYS: BENCH_KEY,
      LOG_LEVEL: "info",
      HOST: "127.0.0.1",
      PORT: String(hooksPort),
      GATEWAY_PORT: String(gatewayPort),
      GATEWAY_KRATOS_URL: stub,
      SHUTDOWN_DRAIN_MS: "0",
    };
    processes.push(await startBenchServer("ours", ["dist/src/adapters/node.js"], env, `${RESULTS}gateway.log`, ours));
    await sameAnswers([bare, ours]);

    const throughput: GatewayFigures["throughput"] = {};
    mkdirSync(RESULTS, { recursive: true });
    const bodyFile = `${RESULTS}login-body.json`;
    writeFileSync(bodyFile, LOGIN_BODY);
    for (const load of LOADS) {
      const request = { method: load.method, headers: load.headers, ...(load.body !== undefined && { bodyFile }) };
      const runs: Record<"ours" | "limit", autocannon.Result[]> = { ours: [], limit: [] };
      closedLoop(`${bare}${load.path}`, request, seconds.warmup, CONNECTIONS);
      closedLoop(`${ours}${load.path}`, request, seconds.warmup, CONNECTIONS);
      // Rounds alternate, so that a slow minute of the VM hits both alike.
      for (let round = 0; round < seconds.rounds; round++) {
        runs.limit.push(closedLoop(`${bare}${load.path}`, request, seconds.closed, CONNECTIONS));
        runs.ours.push(closedLoop(`${ours}${load.path}`, request, seconds.closed, CONNECTIONS));
      }
      throughput[load.name] = { ours: median(runs.ours), limit: median(runs.limit) };
      process.stderr.write(
        `  gateway: ${load.name}: ours ${Math.round(throughput[load.name]?.ours.requestsPerSecond ?? 0)} req/s, limit ${Math.round(throughput[load.name]?.limit.requestsPerSecond ?? 0)}\n`,
      );
    }
    rmSync(bodyFile, { force: true });

    const whoami = LOADS[0] as Load;
    const target = (name: string, base: string): Target => ({
      name,
      url: `${base}${whoami.path}`,
      method: whoami.method,
      headers: whoami.headers,
    });
    const addedLatency = await interleaved([target("direct", stub), target("limit", bare), target("ours", ours)], {
      rounds: quick ? 1000 : 5000,
      warmupRounds: 300,
      ratePerSecond: 600,
    });
    return { throughput, addedLatency };
  } finally {
    for (const proc of processes.reverse()) await proc.stop();
    for (const name of ["stub", "bare", "gateway"]) rmSync(`${RESULTS}${name}.log`, { force: true });
  }
}

/** Real Kratos (DSN=memory, the shipped kratos.yml) with our hooks, its public API straight and through the gateway. */
async function againstKratos(quick: boolean): Promise<GatewayFigures["kratos"]> {
  let kratosBin: string;
  try {
    kratosBin = resolveKratos().path;
  } catch (error) {
    return { skipped: `no Kratos binary (${(error as Error).message.split("\n")[0]})` };
  }
  // Our service logs to a file, as in the stub comparison: this process measures, it must not also read every log line.
  const stack = await startStack({}, { gateway: true, kratosBin, hooksLog: `${RESULTS}gateway-kratos.log` });
  const barePort = await freePort();
  const bare = `http://127.0.0.1:${barePort}`;
  let limit: Running | undefined;
  try {
    limit = await startBenchServer(
      "limit",
      ["test/bench/bare-proxy.mjs"],
      { PORT: String(barePort), UPSTREAM: stack.kratosPublic },
      `${RESULTS}bare-kratos.log`,
      `${bare}/health/alive`,
    );
    const gateway = stack.gatewayUrl ?? "";
    const password = newPassword();
    const signUp = await new KratosClient(gateway, stack.kratosAdmin).run(
      "registration",
      passwordSignUp({ phone: "0176 5550 9999" }, "DE", password),
    );
    if (signUp.status !== 200) throw new Error(`sign-up through the gateway answered ${signUp.status}`);
    const token = signUp.body.session_token ?? "";
    const whoamiTarget = (name: string, base: string): Target => ({
      name,
      url: `${base}/sessions/whoami`,
      method: "GET",
      headers: { accept: "application/json", "x-session-token": token },
    });
    const whoami = await interleaved(
      [
        whoamiTarget("direct", stack.kratosPublic),
        whoamiTarget("again", stack.kratosPublic),
        whoamiTarget("limit", bare),
        whoamiTarget("gateway", gateway),
      ],
      {
        rounds: quick ? 300 : 2000,
        warmupRounds: 50,
        ratePerSecond: 200,
      },
    );
    // A login submission: each needs a flow of its own (created first, not timed). Straight to
    // Kratos with the E.164 identifier, through the gateway with the national one it rewrites.
    // "again" is a second series straight to Kratos: how far two identical series differ is the
    // noise of the figure (bcrypt, Kratos's Jsonnet process pool, the hook call).
    const series = [
      ["direct", stack.kratosPublic, "+4917655509999"],
      ["again", stack.kratosPublic, "+4917655509999"],
      ["limit", bare, "+4917655509999"],
      ["gateway", gateway, "0176 5550 9999"],
    ] as const;
    const samples = new Map<string, number[]>(series.map(([name]) => [name, []]));
    const agents = new Map(series.map(([name]) => [name, new Agent({ keepAlive: true, maxSockets: 1 })]));
    for (let i = 0; i < (quick ? 15 : 100); i++) {
      // Each series goes first in turn: what Kratos still does after one login lands on all alike.
      for (let k = 0; k < series.length; k++) {
        const [name, base, identifier] = series[(i + k) % series.length] as (typeof series)[number];
        const flow = (await (await fetch(`${base}/self-service/login/api`, { headers: { accept: "application/json" } })).json()) as {
          id: string;
        };
        const { ms, status } = await timedRequest(
          {
            name,
            url: `${base}/self-service/login?flow=${flow.id}`,
            method: "POST",
            headers: { accept: "application/json", "content-type": "application/json" },
            body: JSON.stringify({ method: "password", identifier, password, transient_payload: { phone_region: "DE" } }),
          },
          agents.get(name) as Agent,
        );
        if (status !== 200) throw new Error(`login ${name} answered ${status}`);
        if (i > 0) samples.get(name)?.push(ms);
      }
    }
    for (const agent of agents.values()) agent.destroy();
    const login = Object.fromEntries([...samples].map(([name, values]) => [name, summarize(values)]));
    return { whoami, login };
  } finally {
    await limit?.stop();
    rmSync(`${RESULTS}bare-kratos.log`, { force: true });
    rmSync(`${RESULTS}gateway-kratos.log`, { force: true });
    await stack.stop();
  }
}

export async function measureGateway(quick: boolean): Promise<GatewayFigures> {
  mkdirSync(RESULTS, { recursive: true });
  const stub = await againstStub(quick);
  const kratos = await againstKratos(quick);
  return { ...stub, kratos };
}

const ms = (n: number) => n.toFixed(3);

/** The gateway's rows of the printed report, and its targets. */
export function gatewayReport(figures: GatewayFigures): { lines: string[]; targets: [string, number, number, "≥" | "≤"][] } {
  const lines = [`Gateway: closed loop, ${CONNECTIONS} connections, in front of a stub upstream (700-byte JSON, two cookies)`];
  const rows = [["workload / proxy", "req/s", "p50 ms", "p99 ms"]];
  for (const [name, { ours, limit }] of Object.entries(figures.throughput)) {
    rows.push([name, "", "", ""]);
    rows.push(["  kratos-hooks gateway (Node, npm start)", String(Math.round(ours.requestsPerSecond)), String(ours.p50), String(ours.p99)]);
    rows.push(["  limit: bare node:http proxy", String(Math.round(limit.requestsPerSecond)), String(limit.p50), String(limit.p99)]);
    rows.push(["  ratio ours / limit", (ours.requestsPerSecond / limit.requestsPerSecond).toFixed(2), "", ""]);
  }
  const { direct, limit, ours } = figures.addedLatency as Record<"direct" | "limit" | "ours", LatencyFigures>;
  rows.push(["GET /sessions/whoami at 600 req/s, 1 connection each", "", "", ""]);
  rows.push(["  straight to the upstream", "", ms(direct.p50), ms(direct.p99)]);
  rows.push(["  through the limit (added)", "", ms(limit.p50 - direct.p50), ms(limit.p99 - direct.p99)]);
  rows.push(["  through ours (added)", "", ms(ours.p50 - direct.p50), ms(ours.p99 - direct.p99)]);
  if ("skipped" in figures.kratos) rows.push([`real Kratos: skipped, ${figures.kratos.skipped}`, "", "", ""]);
  else {
    for (const [name, pair] of [
      ["real Kratos v1.3.1: GET /sessions/whoami", figures.kratos.whoami],
      ["real Kratos v1.3.1: POST /self-service/login (password)", figures.kratos.login],
    ] as const) {
      const { direct: d, again: a, gateway: g, limit: l } = pair as Record<"direct" | "again" | "gateway" | "limit", LatencyFigures>;
      rows.push([name, "", "", ""]);
      rows.push([`  straight to Kratos (n=${d.n})`, "", ms(d.p50), ms(d.p99)]);
      rows.push([`  straight again (noise: the difference)`, "", ms(a.p50 - d.p50), ms(a.p99 - d.p99)]);
      rows.push([`  through the limit (added)`, "", ms(l.p50 - d.p50), ms(l.p99 - d.p99)]);
      rows.push([`  through the gateway (n=${g.n})`, "", ms(g.p50), ms(g.p99)]);
      rows.push(["  through the gateway (added)", "", ms(g.p50 - d.p50), ms(g.p99 - d.p99)]);
    }
  }
  lines.push(table(rows));
  const passthrough = figures.throughput[LOADS[0]?.name ?? ""];
  return {
    lines,
    targets: [
      [
        "gateway passthrough ≥ 0.7 × bare proxy",
        Number(((passthrough?.ours.requestsPerSecond ?? 0) / (passthrough?.limit.requestsPerSecond ?? 1)).toFixed(2)),
        0.7,
        "≥",
      ],
      ["gateway added p50 ≤ 0.5 ms (loopback, stub)", Number((ours.p50 - direct.p50).toFixed(3)), 0.5, "≤"],
    ],
  };
}
