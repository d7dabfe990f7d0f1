// `serve()` as a library call: it returns a handle, never exits the process, installs signal
// handlers only when asked, and can be started and closed again in the same process.
import { once } from "node:events";
import { createServer as createHttpServer, request } from "node:http";
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/index.js";
import { ListenError, type RunningService, serve } from "../../src/node.js";
import { loadFixture, TEST_KEY } from "../support/helpers.js";
import { freePort } from "../support/ports.js";

const running: RunningService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function env(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return { HOST: "127.0.0.1", PORT: String(await freePort()), HOOKS_API_KEYS: TEST_KEY, LOG_LEVEL: "error", ...extra };
}

async function start(settings: Record<string, string>, handleSignals?: boolean): Promise<RunningService> {
  const service = await serve({ env: settings, ...(handleSignals !== undefined && { handleSignals }) });
  running.push(service);
  return service;
}

function hookCall(port: number): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/hooks/registration-after`, {
    method: "POST",
    headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
    body: JSON.stringify(loadFixture("registration-after.password-phone-national")),
  });
}

describe("serve(), in the test's own process", () => {
  it("starts, serves, closes, and starts again on the same ports, twice over", async () => {
    const settings = await env({ GATEWAY_KRATOS_URL: "http://127.0.0.1:9", GATEWAY_PORT: String(await freePort()) });
    for (let round = 1; round <= 2; round++) {
      const service = await start(settings);
      expect(service.hooksPort).toBe(Number(settings.PORT));
      expect(service.gatewayPort).toBe(Number(settings.GATEWAY_PORT));
      expect(service.host).toBe("127.0.0.1");
      const answer = await hookCall(service.hooksPort);
      expect(answer.status, `round ${round}`).toBe(200);
      expect(await answer.json()).toEqual({ identity: { schema_id: "phone", traits: { phone: "+4917612345678" } } });
      // The gateway is up too: Kratos (port 9) is unreachable, which it answers as Kratos's error shape.
      const gateway = await fetch(`http://127.0.0.1:${service.gatewayPort}/self-service/login/api`);
      expect(gateway.status).toBe(502);
      expect(await service.close()).toBe(true);
      await expect(fetch(`http://127.0.0.1:${service.hooksPort}/health`)).rejects.toThrow();
      await expect(fetch(`http://127.0.0.1:${service.gatewayPort}/health/ready`)).rejects.toThrow();
    }
  });

  it("close() lets a request in flight finish, refuses new connections, and is the same promise when called again", async () => {
    const service = await start(await env());
    const body = Buffer.from(JSON.stringify(loadFixture("registration-after.password-phone-national")));
    const req = request({
      host: "127.0.0.1",
      port: service.hooksPort,
      method: "POST",
      path: "/hooks/registration-after",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json", "content-length": body.length },
    });
    const response = once(req, "response");
    req.write(body.subarray(0, 100));
    await new Promise((r) => setTimeout(r, 100));
    const closed = service.close();
    expect(service.close()).toBe(closed);
    await new Promise((r) => setTimeout(r, 100));
    await expect(fetch(`http://127.0.0.1:${service.hooksPort}/health`)).rejects.toThrow();
    req.end(body.subarray(100));
    const [res] = (await response) as [import("node:http").IncomingMessage];
    expect(res.statusCode).toBe(200);
    res.resume();
    expect(await closed).toBe(true);
  });

  it("close() also closes the keep-alive connections to Kratos", async () => {
    const kratos = createHttpServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
    const open = new Set<import("node:net").Socket>();
    kratos.on("connection", (socket) => {
      open.add(socket);
      socket.on("close", () => open.delete(socket));
    });
    kratos.listen(0, "127.0.0.1");
    await once(kratos, "listening");
    try {
      const address = kratos.address() as import("node:net").AddressInfo;
      const service = await start(
        await env({ GATEWAY_KRATOS_URL: `http://127.0.0.1:${address.port}`, GATEWAY_PORT: String(await freePort()) }),
      );
      expect((await fetch(`http://127.0.0.1:${service.gatewayPort}/health/alive`)).status).toBe(200);
      expect(open.size).toBe(1);
      await service.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(open.size).toBe(0);
    } finally {
      kratos.close();
    }
  });

  it("installs SIGTERM and SIGINT handlers only when asked, and close() removes them", async () => {
    const before = { term: process.listenerCount("SIGTERM"), int: process.listenerCount("SIGINT") };
    const quiet = await start(await env());
    expect(process.listenerCount("SIGTERM")).toBe(before.term);
    await quiet.close();
    const owner = await start(await env(), true);
    expect(process.listenerCount("SIGTERM")).toBe(before.term + 1);
    expect(process.listenerCount("SIGINT")).toBe(before.int + 1);
    await owner.close();
    expect(process.listenerCount("SIGTERM")).toBe(before.term);
    expect(process.listenerCount("SIGINT")).toBe(before.int);
  });

  it("throws a ConfigError for a bad setting, without exiting and before anything listens", async () => {
    const settings = await env({ PORT: "not-a-port" });
    await expect(serve({ env: settings })).rejects.toThrow(ConfigError);
    await expect(serve({ env: settings })).rejects.toThrow(/PORT/);
  });

  it("throws a ListenError for a taken port, and closes the listeners it had opened", async () => {
    const taken = createServer();
    const gatewayPort = await freePort();
    taken.listen(gatewayPort, "127.0.0.1");
    await once(taken, "listening");
    try {
      const settings = await env({ GATEWAY_KRATOS_URL: "http://127.0.0.1:9", GATEWAY_PORT: String(gatewayPort) });
      const error = await serve({ env: settings }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ListenError);
      expect((error as ListenError).code).toBe("EADDRINUSE");
      // The hooks listener came up first; it is closed again, so its port can be taken.
      const again = createServer();
      again.listen(Number(settings.PORT), "127.0.0.1");
      await once(again, "listening");
      again.close();
    } finally {
      taken.close();
    }
  });
});
