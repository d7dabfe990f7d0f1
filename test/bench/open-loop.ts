import { Agent, request } from "node:http";

export interface OpenLoopResult {
  offeredPerSecond: number;
  achievedPerSecond: number;
  sent: number;
  errors: number;
  /** Latency in ms, measured from each request's *scheduled* send time (no coordinated omission). */
  p50: number;
  p99: number;
  p999: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * Open-loop load: requests leave on a fixed schedule whatever the server does, and each latency
 * counts from the moment the request was due, so a stall shows up in the tail instead of
 * slowing the sender down (autocannon's rate limit is closed-loop). Keep-alive connections, as
 * Kratos's HTTP client uses.
 */
export async function openLoop(options: {
  url: string;
  headers: Record<string, string>;
  body: string;
  ratePerSecond: number;
  seconds: number;
}): Promise<OpenLoopResult> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(options.ratePerSecond * options.seconds);
  const intervalNs = 1e9 / options.ratePerSecond;
  const latencies = new Float64Array(total);
  const headers = { ...options.headers, "content-length": String(Buffer.byteLength(options.body)) };
  let sent = 0;
  let done = 0;
  let errors = 0;
  const start = process.hrtime.bigint();

  await new Promise<void>((resolve) => {
    const finish = (index: number, due: bigint, ok: boolean) => {
      latencies[index] = Number(process.hrtime.bigint() - due) / 1e6;
      if (!ok) errors++;
      if (++done === total) resolve();
    };
    const fire = (index: number, due: bigint) => {
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: "POST", headers, agent }, (res) => {
        res.resume();
        res.on("end", () => finish(index, due, res.statusCode !== undefined && res.statusCode < 500));
      });
      req.on("error", () => finish(index, due, false));
      req.end(options.body);
    };
    const tick = () => {
      const now = process.hrtime.bigint();
      // Send everything that is due, catching up after a late timer.
      while (sent < total) {
        const due = start + BigInt(Math.round(sent * intervalNs));
        if (due > now) break;
        fire(sent, due);
        sent++;
      }
      if (sent < total) setImmediate(tick);
    };
    tick();
  });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  agent.destroy();
  const sorted = latencies.sort();
  return {
    offeredPerSecond: options.ratePerSecond,
    achievedPerSecond: Math.round(total / elapsed),
    sent: total,
    errors,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
  };
}

// As a child process of run.ts (`node --import tsx open-loop.ts '<options JSON>'`), so that the
// sender's own garbage collection is not that of the process that just ran autocannon.
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const options = JSON.parse(process.argv[2] ?? "{}") as Parameters<typeof openLoop>[0] & { warmupSeconds: number };
  await openLoop({ ...options, seconds: options.warmupSeconds });
  process.stdout.write(`${JSON.stringify(await openLoop(options))}\n`);
}
