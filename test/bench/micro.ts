// Per-call costs without HTTP, each beside a baseline measured in the same process: JSON.parse of
// the same hook body. Prints one JSON object (run by test/bench/run.ts in a child process).
import { readFileSync } from "node:fs";
import type { CountryCode } from "libphonenumber-js";
import { parseConfig } from "../../src/config/parse.js";
import { toE164 } from "../../src/core/phone.js";
import { runPipeline } from "../../src/core/pipeline.js";
import { createPolicies, warmUp } from "../../src/core/policies/index.js";
import { parseHookPayload } from "../../src/kratos/payload.js";

const quick = process.argv.includes("--quick");
const MEASURE_MS = quick ? 300 : 1_000;
const ROUNDS = quick ? 3 : 5;

/** A mixed corpus as people type numbers: national with a region, international, odd, invalid. */
const PHONES: [string, CountryCode | undefined][] = [
  ["0176 12345678", "DE"],
  ["+49 176 1234 5678", undefined],
  ["06 12 34 56 78", "FR"],
  ["+33612345678", undefined],
  ["(415) 555-2671", "US"],
  ["+1 415-555-2671", undefined],
  ["07911 123456", "GB"],
  ["0049 (0)176 1234-5678", undefined],
  ["tel:+81-90-1234-5678", undefined],
  ["０９０−１２３４−５６７８", "JP"],
  ["+91 98765 43210", undefined],
  ["012 345", "DE"],
  ["not a number", "DE"],
  ["+999 1234", undefined],
];

/** ns per call: warm up, then the median of several timed rounds. */
function measure(fn: (i: number) => unknown): number {
  let sink = 0;
  const run = (ms: number) => {
    let ops = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(ms * 1e6);
    while (process.hrtime.bigint() < end) {
      for (let i = 0; i < 100; i++) sink += fn(ops + i) === undefined ? 0 : 1;
      ops += 100;
    }
    return Number(process.hrtime.bigint() - start) / ops;
  };
  run(MEASURE_MS);
  const rounds = Array.from({ length: ROUNDS }, () => run(MEASURE_MS)).sort((a, b) => a - b);
  if (sink < 0) console.error(sink);
  return rounds[Math.floor(rounds.length / 2)] ?? Number.NaN;
}

async function measureAsync(fn: () => Promise<unknown>): Promise<number> {
  const run = async (ms: number) => {
    let ops = 0;
    const start = process.hrtime.bigint();
    const end = start + BigInt(ms * 1e6);
    while (process.hrtime.bigint() < end) {
      for (let i = 0; i < 100; i++) await fn();
      ops += 100;
    }
    return Number(process.hrtime.bigint() - start) / ops;
  };
  await run(MEASURE_MS);
  const rounds: number[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await run(MEASURE_MS));
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)] ?? Number.NaN;
}

const text = readFileSync(new URL("../../kratos/examples/registration-after.password-phone-national.json", import.meta.url), "utf8");
const body = JSON.parse(text);
warmUp();
const policies = createPolicies(parseConfig({}, "bench"));
const parsed = parseHookPayload("registration-after", body);
if (!parsed.ok) throw new Error("fixture does not parse");
const input = parsed.input;

/** The app arms a budget per call; here the signal never fires and nothing is logged. */
const BENCH_CONTEXT = { signal: new AbortController().signal, logger: { info() {}, warn() {}, error() {} } };

const results = {
  baselineJsonParseNs: measure(() => JSON.parse(text)),
  phoneNormalizationNs: measure((i) => {
    const [raw, region] = PHONES[i % PHONES.length] ?? ["", undefined];
    return toE164(raw, region);
  }),
  payloadValidationNs: measure(() => parseHookPayload("registration-after", body)),
  pipelineNs: await measureAsync(() => runPipeline(policies, input, BENCH_CONTEXT)),
  bodyBytes: text.length,
  phoneCorpus: PHONES.length,
};
process.stdout.write(`${JSON.stringify(results)}\n`);
