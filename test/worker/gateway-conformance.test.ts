import { afterAll, beforeAll, describe, it } from "vitest";
import { freePort, type Running } from "../e2e/processes.js";
import { CASES, checkConformance, HOST } from "../gateway/conformance.js";
import { type Recorder, startRecorder } from "../support/raw-http.js";
import { startWranglerDev } from "./wrangler-dev.js";

// The table of test/gateway/conformance.ts against the Worker in `wrangler dev`: Miniflare and
// workerd on this machine, not Cloudflare's edge. workerd's own HTTP server reads the client's
// bytes and `fetch()` frames what the Worker sends: where that changes a case, the table says
// how and why (`worker`), and the upstream side must hold all the same.
let recorder: Recorder;
let worker: Running;
let port: number;

beforeAll(async () => {
  recorder = await startRecorder();
  port = await freePort();
  worker = await startWranglerDev(port, { GATEWAY_KRATOS_URL: recorder.url, GATEWAY_HOSTNAMES: HOST });
}, 90_000);
afterAll(async () => {
  await worker?.stop();
  await recorder?.close();
});

describe("the Worker gateway in wrangler dev as an HTTP/1.1 intermediary (RFC 9112 §6, §9)", () => {
  it.each(CASES.map((c) => [`${c.section} ${c.name}${c.worker ? ` (Worker: ${c.worker.why})` : ""}`, c] as const))("%s", (_, c) =>
    checkConformance(port, recorder, c, "worker"),
  );
});
