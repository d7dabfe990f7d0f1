// `npx tsx test/redis/hit-latency.ts [count]`: sequential hits on the Redis store against a
// redis-server of its own on loopback, with p50/p99/max. Timings are reported, never judged.
import { createRedisShieldStore } from "../../src/adapters/redis-shield-store.js";
import { startRedisServer } from "../support/redis-server.js";

const count = Number(process.argv[2] ?? 10_000);
const server = await startRedisServer();
const store = createRedisShieldStore(server.url, { keyPrefix: "kh-latency:" });
try {
  await store.ready();
  const measure = async (label: string, call: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 500; i++) await call(i); // warm-up: JIT, EVAL → EVALSHA
    const took: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await call(i);
      took.push(performance.now() - started);
    }
    took.sort((a, b) => a - b);
    const at = (q: number) => (took[Math.min(took.length - 1, Math.floor(q * took.length))] ?? 0).toFixed(3);
    console.log(`${label}: ${count} sequential, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`);
  };
  const now = Date.now();
  await measure("hit, 1 key", (i) => store.hit([{ key: `kh:login:${i % 100}`, windowMs: 60_000 }], now));
  await measure("hit, 3 keys", (i) =>
    store.hit(
      [
        { key: `kh:login:id:${i % 100}`, windowMs: 60_000 },
        { key: `kh:login:ip:${i % 50}`, windowMs: 60_000 },
        { key: `kh:sms:day:${i % 10}`, windowMs: 86_400_000 },
      ],
      now,
    ),
  );
  await measure("peek, 3 keys", (i) => store.peek([`kh:login:id:${i % 100}`, `kh:login:ip:${i % 50}`, `kh:sms:day:${i % 10}`], now));
} finally {
  await store.close();
  await server.stop();
}
