import { Agent, request } from "node:http";

/** One way of sending the same request: straight to a server, or through a proxy in front of it. */
export interface Target {
  name: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LatencyFigures {
  n: number;
  p50: number;
  p99: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function summarize(samples: number[]): LatencyFigures {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** Sends one request on the target's own keep-alive connection; resolves with the ms until the last byte. */
export function timedRequest(target: Target, agent: Agent): Promise<{ ms: number; status: number; body: string }> {
  const url = new URL(target.url);
  const headers =
    target.body === undefined ? target.headers : { ...target.headers, "content-length": String(Buffer.byteLength(target.body)) };
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: target.method, headers, agent },
      (res) => {
        // The body is kept (an error names what the server said); reading it is part of the time, as before.
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            ms: Number(process.hrtime.bigint() - started) / 1e6,
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(target.body);
  });
}

/**
 * Latency at a low, fixed rate on one keep-alive connection per target, the targets taking turns
 * request by request, so that whatever else the machine does at a moment hits each of them alike:
 * the difference between two targets is the cost of what stands between them.
 */
export async function interleaved(
  targets: readonly Target[],
  options: { rounds: number; warmupRounds: number; ratePerSecond: number },
): Promise<Record<string, LatencyFigures>> {
  const agents = targets.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
  const samples = targets.map(() => [] as number[]);
  const roundMs = (1000 * targets.length) / options.ratePerSecond;
  const start = performance.now();
  for (let round = 0; round < options.warmupRounds + options.rounds; round++) {
    const wait = start + round * roundMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (const [i, target] of targets.entries()) {
      const { ms, status } = await timedRequest(target, agents[i] as Agent);
      if (status >= 500) throw new Error(`${target.name} answered ${status}`);
      if (round >= options.warmupRounds) samples[i]?.push(ms);
    }
  }
  for (const agent of agents) agent.destroy();
  return Object.fromEntries(targets.map((t, i) => [t.name, summarize(samples[i] ?? [])]));
}
