import { once } from "node:events";
import { type IncomingMessage, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort, type Running } from "../e2e/processes.js";
import { CASES as CONFORMANCE, checkConformance, HOST } from "../gateway/conformance.js";
import { CASES, checkCase, checkLogs, SHARED_CONFIG, SHARED_KEY } from "../support/hook-cases.js";
import { type Recorder, startRecorder } from "../support/raw-http.js";
import { type Echo, startEchoUpstream } from "./echo-upstream.js";
import { startWranglerDev, workerLogLines } from "./wrangler-dev.js";

// The shared table a third time: over HTTP to `wrangler dev`, which runs the Worker in workerd
// under deployment rules (it refuses `new Function`; the test pool allows it). The same Worker
// also serves the gateway on the hostname auth.example.test, in front of an echo upstream.
// Then the gateway's conformance table, with a second `wrangler dev` in front of a recording
// upstream. The two run one after the other: a second `wrangler dev` beside the first has
// restarted the first's Worker mid-request.
let worker: Running;
let url: string;
let port: number;
let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;

describe("wrangler dev in front of an echo upstream", () => {
  beforeAll(async () => {
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    upstream = await startEchoUpstream();
    worker = await startWranglerDev(port, {
      HOOKS_API_KEYS: SHARED_KEY,
      HOOKS_CONFIG: JSON.stringify(SHARED_CONFIG),
      GATEWAY_KRATOS_URL: upstream.url,
      GATEWAY_HOSTNAMES: "auth.example.test",
    });
  }, 90_000);
  afterAll(async () => {
    await worker?.stop();
    await upstream?.close();
  });

  describe("shared cases against wrangler dev", () => {
    it.each(CASES.map((c) => [c.name, c] as const))("%s", (_name, c) =>
      checkCase(c, (request) => {
        const target = new URL(request.url);
        return fetch(`${url}${target.pathname}`, request);
      }),
    );

    it("logged each case in pino's shape with nothing personal in clear", async () => {
      // The last line may reach the pipe a moment after its answer.
      await vi.waitFor(() => checkLogs(workerLogLines(worker.output())));
    });
  });

  /** A request to wrangler dev's one port with the Host header of our choosing (node:http sends it as given). */
  async function send(host: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
    const req = request({ host: "127.0.0.1", port, path, method: init.method ?? "GET", headers: { host, ...init.headers } });
    req.end(init.body);
    const [res] = (await once(req, "response")) as [IncomingMessage];
    let text = "";
    for await (const chunk of res) text += chunk;
    return { status: res.statusCode, headers: res.headers, text };
  }

  describe("the gateway in wrangler dev, chosen by hostname", () => {
    it("Host auth.example.test is the gateway: a form login is rewritten, cookies come back", async () => {
      const res = await send("auth.example.test", "/self-service/login?flow=f", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "cf-ipcountry": "DE" },
        body: `identifier=0176+1234+5678&password=p&transient_payload=${encodeURIComponent('{"phone_region":"DE"}')}`,
      });
      expect(res.status).toBe(200);
      expect(res.headers["set-cookie"]).toEqual(["csrf_token_echo=one; Path=/; HttpOnly", "ory_kratos_session=two; Path=/; HttpOnly"]);
      const echo = JSON.parse(res.text) as Echo;
      expect(echo.url).toBe("/self-service/login?flow=f");
      expect(Buffer.from(echo.body, "base64").toString()).toBe(
        `identifier=%2B4917612345678&password=p&transient_payload=${encodeURIComponent('{"phone_region":"DE"}')}`,
      );
      expect(echo.headers).toMatchObject({ "x-forwarded-host": "auth.example.test", "kratos-hooks-gateway": "1" });
    });

    it("any other Host gets the hooks", async () => {
      expect(JSON.parse((await send(`127.0.0.1:${port}`, "/health")).text)).toEqual({ status: "ok" });
      expect((await send("hooks.example.test", "/hooks/login-before", { method: "POST" })).status).toBe(401);
    });
  });
});

// The table of test/gateway/conformance.ts against the Worker: Miniflare and workerd on this
// machine, not Cloudflare's edge. workerd's own HTTP server reads the client's bytes and
// `fetch()` frames what the Worker sends: where that changes a case, the table says how and why
// (`worker`), and the upstream side must hold all the same.
describe("the Worker gateway in wrangler dev as an HTTP/1.1 intermediary (RFC 9112 §6, §9)", () => {
  let recorder: Recorder;
  let gateway: Running;
  let gatewayPort: number;
  beforeAll(async () => {
    recorder = await startRecorder();
    gatewayPort = await freePort();
    gateway = await startWranglerDev(gatewayPort, { GATEWAY_KRATOS_URL: recorder.url, GATEWAY_HOSTNAMES: HOST });
  }, 90_000);
  afterAll(async () => {
    await gateway?.stop();
    await recorder?.close();
  });

  it.each(CONFORMANCE.map((c) => [`${c.section} ${c.name}${c.worker ? ` (Worker: ${c.worker.why})` : ""}`, c] as const))("%s", (_, c) =>
    checkConformance(gatewayPort, recorder, c, "worker"),
  );
});
