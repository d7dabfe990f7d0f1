import { afterAll, beforeAll, describe, it } from "vitest";
import { CASES, checkConformance } from "../gateway/conformance.js";
import { type Recorder, startRecorder } from "../support/raw-http.js";
import { type Running, start } from "../support/server-process.js";

// The table of test/gateway/conformance.ts against the compiled server (what `npm start` runs) as a
// real process, in front of a raw-socket upstream that parses what it receives as strictly as
// RFC 9112 (and Go's net/http, which Kratos runs) frames it.
let recorder: Recorder;
let server: Running;

beforeAll(async () => {
  recorder = await startRecorder();
  server = await start({ GATEWAY_KRATOS_URL: recorder.url }, true);
});
afterAll(async () => {
  server?.child.kill("SIGKILL");
  await recorder?.close();
});

describe("the Node gateway as an HTTP/1.1 intermediary (RFC 9112 §6, §9)", () => {
  it.each(CASES.map((c) => [`${c.section} ${c.name}`, c] as const))("%s", (_, c) =>
    checkConformance(server.gatewayPort, recorder, c, "node"),
  );
});
