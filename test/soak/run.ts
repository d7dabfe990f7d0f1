// `npm run soak` (10 minutes at a steady rate) and `npm run soak:quick` (about a minute, in CI):
// the compiled server as `npm start` runs it, under steady load, malformed input, socket abuse and
// a SIGTERM under load. Unlike the benchmark this is a check: it exits 1 when a bound is broken
// (errors, memory growth, a 5xx, a reset, an unbounded answer). Latencies are reported, not judged.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, createServer, request } from "node:http";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { percentile, sendOnSchedule } from "../bench/open-loop.js";
import { freePort } from "../e2e/processes.js";
import { mutations } from "./mutate.js";

const quick = process.argv.includes("--quick");
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RESULTS = fileURLToPath(new URL("../bench/results/", import.meta.url));
const KEY = "soak-key-0123456789abcdefgh";
const HEADERS = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
const PLAN = quick
  ? { steadySeconds: 30, rate: 1_000, mutated: 10_000, drainLoadSeconds: 2 }
  : { steadySeconds: 600, rate: 1_000, mutated: 100_000, drainLoadSeconds: 4 };

/** Every shipped example (kratos/examples), as Kratos would send it to its hook. */
const CALLS = readdirSync(fileURLToPath(new URL("../../kratos/examples/", import.meta.url)))
  .filter((f) => f.endsWith(".json"))
  .map((f) => ({
    hook: f.split(".")[0] as string,
    body: readFileSync(fileURLToPath(new URL(`../../kratos/examples/${f}`, import.meta.url)), "utf8"),
  }));

interface Server {
  child: ChildProcess;
  port: number;
  log: string;
}

async function startServer(name: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Server> {
  const port = await freePort();
  mkdirSync(RESULTS, { recursive: true });
  const log = `${RESULTS}soak-${name}.log`;
  const out = openSync(log, "w");
  const child = spawn(process.execPath, [...nodeArgs, "dist/src/adapters/node.js"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "production",
      HOOKS_API_KEYS: KEY,
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", out, out],
  });
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200) return { child, port, log };
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`the server did not start: ${readFileSync(log, "utf8")}`);
}

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN) / 1024;
}

const MEMORY_FILE = `${RESULTS}soak-steady-memory.jsonl`;
const MEMORY_PROBE = ["--expose-gc", "--import", fileURLToPath(new URL("memory-probe.mjs", import.meta.url))];

interface AfterGc {
  rss: number;
  heapUsed: number;
  external: number;
}

/** Asks the server's memory probe for a full collection and returns its memory after it, in MiB. */
async function memoryAfterFullGc(server: Server): Promise<AfterGc> {
  const lines = () => (existsSync(MEMORY_FILE) ? readFileSync(MEMORY_FILE, "utf8").split("\n").slice(0, -1) : []);
  const before = lines().length;
  server.child.kill("SIGUSR2");
  for (let i = 0; i < 250; i++) {
    const all = lines();
    if (all.length > before) {
      const bytes = JSON.parse(all[all.length - 1] as string) as AfterGc;
      const mib = (n: number) => n / 1_048_576;
      return { rss: mib(bytes.rss), heapUsed: mib(bytes.heapUsed), external: mib(bytes.external) };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("the memory probe did not answer within 5 s");
}

function post(agent: Agent, port: number, hook: string, body: string | Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: `/hooks/${hook}`,
        method: "POST",
        agent,
        headers: { ...HEADERS, "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const findings: string[] = [];
const report: Record<string, unknown> = {};
function check(ok: boolean, what: string): void {
  process.stdout.write(`  ${ok ? "ok    " : "BROKEN"} ${what}\n`);
  if (!ok) findings.push(what);
}

/** 1. A steady open-loop rate over every fixture: errors, latency from the scheduled send time, memory over time. */
async function steady(): Promise<void> {
  rmSync(MEMORY_FILE, { force: true });
  const server = await startServer("steady", { SOAK_MEMORY_FILE: MEMORY_FILE }, MEMORY_PROBE);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = PLAN.rate * PLAN.steadySeconds;
  const latencies = new Float64Array(total);
  const statuses = new Map<number, number>();
  let errors = 0;
  let done = 0;
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(rssMiB(server.child.pid ?? 0)), 1000);
  // The warm-up (the first fifth) ends with a full collection: what the start-up left for V8 to
  // collect does not count, and the live heap after it is the baseline a leak would raise.
  const warmedUp = new Promise<AfterGc>((resolve, reject) =>
    setTimeout(() => memoryAfterFullGc(server).then(resolve, reject), PLAN.steadySeconds * 200),
  );
  await new Promise<void>((resolve) => {
    const fire = (i: number, due: bigint) => {
      const call = CALLS[i % CALLS.length] as (typeof CALLS)[number];
      post(agent, server.port, call.hook, call.body).then(
        (status) => {
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          latencies[i] = Number(process.hrtime.bigint() - due) / 1e6;
          if (++done === total) resolve();
        },
        () => {
          errors++;
          if (++done === total) resolve();
        },
      );
    };
    // A 1 ms timer between checks, not setImmediate: the server shares the two cores for 10 minutes.
    sendOnSchedule(total, PLAN.rate, fire, (next) => setTimeout(next, 1));
  });
  clearInterval(sampler);
  const afterGc = { warmedUp: await warmedUp, end: await memoryAfterFullGc(server) };
  agent.destroy();
  server.child.kill("SIGTERM");
  await once(server.child, "exit");
  const sorted = latencies.sort();
  const at = (p: number) => percentile(sorted, p * 100);
  // Memory after warm-up: the median of the second fifth of the run against the median of the
  // last fifth (a leak raises the level; single samples swing with each garbage collection).
  const fifth = Math.max(5, Math.floor(rss.length / 5));
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  const baseline = median(rss.slice(fifth, 2 * fifth));
  const end = median(rss.slice(-fifth));
  const peak = Math.max(...rss.slice(fifth));
  const growth = end / baseline - 1;
  const heapGrowth = afterGc.end.heapUsed / afterGc.warmedUp.heapUsed - 1;
  const fiveXX = [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
  report.steady = {
    seconds: PLAN.steadySeconds,
    rate: PLAN.rate,
    requests: total,
    errors,
    statuses: Object.fromEntries(statuses),
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    rssAfterWarmUpMiB: baseline,
    rssPeakMiB: peak,
    growth,
    /** After a full collection (MiB): at the end of the warm-up, and once the load has stopped. */
    afterFullGc: afterGc,
    heapGrowth,
    /** Every second's sample, to tell a leak (a steady climb) from a plateau. */
    rssEverySecondMiB: rss.map((v) => Math.round(v * 10) / 10),
  };
  process.stdout.write(
    `steady: ${total.toLocaleString("en-US")} calls at ${PLAN.rate}/s over ${CALLS.length} fixtures; p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms, p99.9 ${at(0.999).toFixed(2)} ms; RSS after warm-up ${baseline.toFixed(0)} MiB, at the end ${end.toFixed(0)} MiB (peak ${peak.toFixed(0)}); live heap after a full collection ${afterGc.warmedUp.heapUsed.toFixed(1)} → ${afterGc.end.heapUsed.toFixed(1)} MiB, external ${afterGc.warmedUp.external.toFixed(1)} → ${afterGc.end.external.toFixed(1)} MiB\n`,
  );
  check(errors === 0, `0 connection errors (found ${errors})`);
  check(fiveXX === 0, `0 answers of 5xx (found ${fiveXX})`);
  check(
    growth <= 0.1,
    `RSS after warm-up grows ≤ 10 % (median of the second fifth against the last fifth: ${(growth * 100).toFixed(1)} %)`,
  );
  check(
    heapGrowth <= 0.05,
    `the live heap after a full collection grows ≤ 5 % from the warm-up to the end (${(heapGrowth * 100).toFixed(1)} %)`,
  );
}

/** 2. Mutated payloads: every hook, types swapped, keys removed, huge strings, deep nesting, broken JSON. */
async function mutated(): Promise<void> {
  const server = await startServer("mutated", { LOG_LEVEL: "warn" });
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const statuses = new Map<number, number>();
  let errors = 0;
  const payloads = mutations(CALLS, PLAN.mutated, 20261130);
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let item = payloads.next(); !item.done; item = payloads.next()) {
        const { hook, body } = item.value;
        try {
          const status = await post(agent, server.port, hook, body);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        } catch {
          errors++;
        }
      }
    }),
  );
  agent.destroy();
  const alive = server.child.exitCode === null && (await fetch(`http://127.0.0.1:${server.port}/health`)).status === 200;
  server.child.kill("SIGTERM");
  await once(server.child, "exit");
  const fiveXX = [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
  report.mutated = { payloads: PLAN.mutated, statuses: Object.fromEntries(statuses), errors };
  process.stdout.write(
    `mutated: ${PLAN.mutated.toLocaleString("en-US")} payloads; answers ${JSON.stringify(Object.fromEntries(statuses))}\n`,
  );
  check(fiveXX === 0, `0 answers of 5xx to mutated payloads (found ${fiveXX})`);
  check(errors === 0, `0 connection errors (found ${errors})`);
  check(alive, "the process is alive and healthy afterwards");
}

/** Raw bytes on a socket; resolves with what came back (its status line) and when the server closed. */
function raw(port: number, send: (write: (data: string) => boolean) => void, waitMs: number): Promise<{ status: string; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ status: `no answer within ${waitMs} ms`, ms: performance.now() - started });
    }, waitMs);
    socket.on("data", (d) => {
      text += d;
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({
        status: /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? `closed without an answer (${text.length} bytes)`,
        ms: performance.now() - started,
      });
    });
    socket.on("error", () => undefined);
    socket.on("connect", () => send((data) => socket.write(data)));
  });
}

/** 3. Socket abuse: each answered with a bounded status and its documented timeout. */
async function abuse(): Promise<void> {
  const server = await startServer("abuse", { LOG_LEVEL: "warn" });
  const { port } = server;
  const trickle = (write: (d: string) => boolean, first: string, each: string) => {
    write(first);
    const timer = setInterval(() => {
      if (!write(each)) clearInterval(timer);
    }, 1000);
    timer.unref();
  };
  const cases = await Promise.all([
    raw(port, (w) => w("GARBAGE / HTTP/9.9\r\n\r\n"), 5_000).then((r) => ["a bad request line", r, "400"] as const),
    raw(port, (w) => w(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(100 * 1024)}\r\n\r\n`), 5_000).then(
      (r) => ["100 KiB of headers", r, "431"] as const,
    ),
    raw(
      port,
      (w) =>
        w(
          `POST /hooks/login-after HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{`,
        ),
      5_000,
    ).then((r) => ["a declared body over 1 MiB", r, "413"] as const),
    raw(port, (w) => trickle(w, "GET /health HTTP/1.1\r\n", "X-Slow: 1\r\n"), 20_000).then(
      (r) => ["slowloris headers (one line a second)", r, "408"] as const,
    ),
    raw(
      port,
      (w) =>
        trickle(
          w,
          `POST /hooks/login-after HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`,
          "x",
        ),
      40_000,
    ).then((r) => ["a slowloris body (one byte a second)", r, "408"] as const),
  ]);
  const alive = (await fetch(`http://127.0.0.1:${port}/health`)).status === 200;
  server.child.kill("SIGTERM");
  await once(server.child, "exit");
  report.abuse = Object.fromEntries(cases.map(([name, r]) => [name, r]));
  for (const [name, r, expected] of cases)
    check(r.status === expected, `${name}: ${expected} (found ${r.status}, after ${(r.ms / 1000).toFixed(1)} s)`);
  check(alive, "the process is alive and healthy afterwards");
}

/** The server process's open file descriptors (its sockets among them). */
function openFiles(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * 4. Connections held open: idle keep-alive connections from one address, silent connections from
 * many, on the gateway's listener with small bounds. The bounds hold at every step (the process's
 * open files stay under the cap plus a margin), a new client is still served, and the silent
 * connections are gone at the headers timeout.
 */
async function connections(): Promise<void> {
  const BOUNDS = { max: 200, perAddress: 50 };
  const upstream = createServer((_req, res) => res.end("{}")).listen(0, "127.0.0.1");
  await once(upstream, "listening");
  const upstreamPort = (upstream.address() as { port: number }).port;
  const gatewayPort = await freePort();
  const metricsPort = await freePort();
  const server = await startServer("connections", {
    LOG_LEVEL: "warn",
    GATEWAY_KRATOS_URL: `http://127.0.0.1:${upstreamPort}`,
    GATEWAY_PORT: String(gatewayPort),
    METRICS_PORT: String(metricsPort),
    MAX_CONNECTIONS: String(BOUNDS.max),
    MAX_CONNECTIONS_PER_ADDRESS: String(BOUNDS.perAddress),
  });
  const pid = server.child.pid ?? 0;
  const baseline = openFiles(pid);
  const held: { socket: Socket; closed: boolean; answer: string }[] = [];
  const hold = async (localAddress: string, request: boolean) => {
    const socket = connect({ port: gatewayPort, host: "127.0.0.1", localAddress });
    const entry = { socket, closed: false, answer: "" };
    socket.on("data", (chunk: Buffer) => {
      entry.answer += chunk.toString("latin1");
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      entry.closed = true;
    });
    await once(socket, "connect");
    if (request) {
      socket.write("GET /health/alive HTTP/1.1\r\nHost: auth.example.test\r\n\r\n");
      while (entry.answer === "" && !entry.closed) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    held.push(entry);
    return entry;
  };
  let peak = 0;
  const sample = () => {
    peak = Math.max(peak, openFiles(pid) - baseline);
  };
  // 150 idle keep-alive connections from one address: at most 50 stay open.
  const idle = [];
  for (let i = 0; i < 150; i++) {
    idle.push(await hold("127.0.0.1", true));
    if (i % 10 === 0) sample();
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  sample();
  const idleOpen = idle.filter((c) => !c.closed).length;
  // 400 silent connections from eight addresses: at most 200 open in all.
  const silent = [];
  for (let i = 0; i < 400; i++) {
    silent.push(await hold(`127.0.1.${(i % 8) + 1}`, false));
    if (i % 20 === 0) sample();
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  sample();
  const openNow = held.filter((c) => !c.closed).length;
  // A new client is served, with the listener full.
  const newcomer = await fetch(`http://127.0.0.1:${gatewayPort}/health/alive`).then(
    (res) => res.status,
    () => 0,
  );
  // The silent ones go at the headers timeout (10 s, checked every second).
  const deadline = Date.now() + 13_000;
  while (silent.some((c) => !c.closed) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250));
  const silentLeft = silent.filter((c) => !c.closed).length;
  // Those still open at the timeout were answered 408 (the others were closed to make room).
  const timedOut = silent.filter((c) => c.answer.startsWith("HTTP/1.1 408 ")).length;
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const counted = (name: string) =>
    metrics
      .split("\n")
      .filter((l) => l.startsWith(`${name}{listener="gateway"`))
      .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
  const alive = (await fetch(`http://127.0.0.1:${server.port}/health`)).status === 200;
  for (const c of held) c.socket.destroy();
  server.child.kill("SIGTERM");
  await once(server.child, "exit");
  upstream.close();
  report.connections = {
    bounds: BOUNDS,
    idleOpen,
    openNow,
    peakOpenFiles: peak,
    newcomer,
    silentLeft,
    shed: counted("kratos_hooks_connections_shed_total"),
    refused: counted("kratos_hooks_connections_refused_total"),
  };
  process.stdout.write(
    `connections: ${idleOpen} of 150 idle keep-alive from one address left open, ${openNow} of ${held.length} open in all, peak ${peak} files above the start, ${counted("kratos_hooks_connections_shed_total")} shed\n`,
  );
  check(idleOpen <= BOUNDS.perAddress, `idle keep-alive connections from one address ≤ ${BOUNDS.perAddress} (found ${idleOpen})`);
  check(openNow <= BOUNDS.max, `open connections ≤ ${BOUNDS.max} (found ${openNow})`);
  // Each client connection is one file; the gateway's upstream pool and the listeners add a few.
  check(peak <= BOUNDS.max + 20, `the process's open files stay within the bound (peak ${peak} above the start, bound ${BOUNDS.max} + 20)`);
  check(newcomer === 200, `a new client is served while the listener is full (found ${newcomer})`);
  check(
    silentLeft === 0 && timedOut > 0,
    `silent connections are answered 408 and closed at the headers timeout (${timedOut} answered 408; ${silentLeft} open after 13 s)`,
  );
  check(counted("kratos_hooks_connections_shed_total") > 0, "shed connections are counted in kratos_hooks_connections_shed_total");
  check(alive, "the process is alive and healthy afterwards");
}

/** 5. SIGTERM under 40 keep-alive clients that stop before the drain ends: every request answered. */
async function drain(): Promise<void> {
  const drainMs = (PLAN.drainLoadSeconds + 2) * 1000;
  const server = await startServer("drain", { SHUTDOWN_DRAIN_MS: String(drainMs), LOG_LEVEL: "warn" });
  const agent = new Agent({ keepAlive: true, maxSockets: 40 });
  const call = CALLS.find((c) => c.hook === "registration-after") as (typeof CALLS)[number];
  let stop = false;
  let answered = 0;
  let duringDrain = 0;
  let signalled = false;
  const errors = new Map<string, number>();
  const clients = Promise.all(
    Array.from({ length: 40 }, async () => {
      while (!stop) {
        try {
          await post(agent, server.port, call.hook, call.body);
          answered++;
          if (signalled) duringDrain++;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? "error";
          errors.set(code, (errors.get(code) ?? 0) + 1);
        }
      }
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  server.child.kill("SIGTERM");
  signalled = true;
  await new Promise((resolve) => setTimeout(resolve, 300));
  const health = (await fetch(`http://127.0.0.1:${server.port}/health`)).status;
  await new Promise((resolve) => setTimeout(resolve, PLAN.drainLoadSeconds * 1000 - 300));
  stop = true;
  await clients;
  agent.destroy();
  const [code] = await once(server.child, "exit");
  const resets = [...errors].reduce((n, [, c]) => n + c, 0);
  report.drain = { answered, duringDrain, errors: Object.fromEntries(errors), health, exitCode: code };
  process.stdout.write(
    `drain: ${answered.toLocaleString("en-US")} answered, ${duringDrain.toLocaleString("en-US")} of them during the drain\n`,
  );
  check(resets === 0, `0 resets or refusals while the load ran (found ${JSON.stringify(Object.fromEntries(errors))})`);
  check(health === 503, `/health answers 503 during the drain (found ${health})`);
  check(code === 0, `exit code 0 (found ${code})`);
}

// `--only=<name>` runs one part (steady, mutated, abuse, connections, drain), e.g. while working on it.
const only = process.argv.find((arg) => arg.startsWith("--only="))?.slice("--only=".length);
for (const [name, part] of Object.entries({ steady, mutated, abuse, connections, drain }))
  if (only === undefined || only === name) await part();
const file = `${RESULTS}soak-${new Date().toISOString().replace(/[:.]/g, "-")}${quick ? "-quick" : ""}.json`;
writeFileSync(file, `${JSON.stringify({ quick, plan: PLAN, ...report, findings }, null, 2)}\n`);
process.stdout.write(`\n${findings.length === 0 ? "all bounds held" : `${findings.length} bound(s) broken`}; written to ${file}\n`);
process.exitCode = findings.length === 0 ? 0 : 1;
