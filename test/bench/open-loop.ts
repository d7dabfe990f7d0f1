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

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * Calls `fire(index, due)` for requests 0 … total-1 on a fixed schedule of `ratePerSecond` from
 * now, sending everything that is due and catching up after a late timer, and returns the start.
 * `wait` re-arms the check: `setImmediate` for precision, a 1 ms timer to leave a shared core to
 * the server.
 */
export function sendOnSchedule(
  total: number,
  ratePerSecond: number,
  fire: (index: number, due: bigint) => void,
  wait: (next: () => void) => void = setImmediate,
): bigint {
  const start = process.hrtime.bigint();
  const intervalNs = 1e9 / ratePerSecond;
  let sent = 0;
  const tick = () => {
    const now = process.hrtime.bigint();
    while (sent < total) {
      const due = start + BigInt(Math.round(sent * intervalNs));
      if (due > now) break;
      fire(sent, due);
      sent++;
    }
    if (sent < total) wait(tick);
  };
  tick();
  return start;
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
  const latencies = new Float64Array(total);
  const headers = { ...options.headers, "content-length": String(Buffer.byteLength(options.body)) };
  let done = 0;
  let errors = 0;
  let start = 0n;
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
    start = sendOnSchedule(total, options.ratePerSecond, fire);
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
