import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_DEV_URLS,
  DEV_PORTS,
  devStack,
  kratosEnv,
  readinessUrls,
  SHIPPED_ADDRESSES,
  serviceEnv,
  takenPort,
} from "../../src/cli/dev-stack.js";
import { HELP } from "../../src/cli/help.js";
import { UsageError } from "../../src/cli/usage.js";
import { ROOT } from "../support/cli.js";
import { freePort } from "../support/ports.js";

// The dev stack's ports and addresses, computed in one place (src/cli/dev-stack.ts).

describe("the dev stack", () => {
  it("without flags: the default ports on loopback, and the shipped kratos.yml calls the hooks and the sink there", () => {
    const stack = devStack({});
    expect(stack.ports).toEqual(DEV_PORTS);
    expect(stack.urls).toEqual(DEFAULT_DEV_URLS);
    expect(stack.urls.gateway).toBe(`http://127.0.0.1:${DEV_PORTS.gateway}`);
    const shipped = readFileSync(join(ROOT, "kratos", "kratos.yml"), "utf8");
    expect(shipped).toContain(SHIPPED_ADDRESSES.hooks);
    expect(shipped).toContain(SHIPPED_ADDRESSES.sink);
  });

  it("a flag moves its part, and everything that names it follows", () => {
    const stack = devStack({ hooksPort: "9001", publicPort: "9002", gatewayPort: "9003", adminPort: "9004" });
    expect(stack.urls.hooks).toBe("http://127.0.0.1:9001");
    expect(readinessUrls(stack.urls)).toEqual({
      hooks: "http://127.0.0.1:9001/health",
      gateway: "http://127.0.0.1:9003/health/ready",
      kratos: "http://127.0.0.1:9004/admin/health/ready",
    });
    const service = serviceEnv(stack, { LOG_LEVEL: "debug" });
    expect(service).toMatchObject({ LOG_LEVEL: "debug", PORT: "9001", HOST: "127.0.0.1", GATEWAY_KRATOS_URL: "http://127.0.0.1:9002" });
    expect(service.GATEWAY_PORT).toBe("9003");
    const kratos = kratosEnv(stack, "memory", { PATH: "/bin", HOME: "/home/x", HOOKS_API_KEYS: "secret" });
    expect(kratos).toMatchObject({ DSN: "memory", SERVE_PUBLIC_PORT: "9002", SERVE_PUBLIC_BASE_URL: "http://127.0.0.1:9003/" });
    expect(kratos.SERVE_ADMIN_BASE_URL).toBe("http://127.0.0.1:9004/");
    expect(kratos).not.toHaveProperty("HOOKS_API_KEYS");
  });

  it("a port that is none, or two parts on one port, is a usage error", () => {
    expect(() => devStack({ sinkPort: "0" })).toThrow(UsageError);
    expect(() => devStack({ adminPort: String(DEV_PORTS.sink) })).toThrow(`--admin-port and --sink-port are both ${DEV_PORTS.sink}`);
  });

  it("dev's --help names the defaults the stack uses", () => {
    for (const port of Object.values(DEV_PORTS)) expect(HELP.dev).toContain(`(default ${port})`);
    expect(HELP.dev).toContain(SHIPPED_ADDRESSES.hooks);
  });
});

describe("takenPort", () => {
  it("names the first port something listens on, with the listen error's code; none when all are free", async () => {
    const holder = createServer().listen(0, "127.0.0.1");
    await once(holder, "listening");
    const held = (holder.address() as { port: number }).port;
    try {
      const free = [await freePort(), await freePort(), await freePort(), await freePort()];
      const stack = devStack({
        hooksPort: String(free[0]),
        gatewayPort: String(free[1]),
        publicPort: String(held),
        adminPort: String(free[2]),
        sinkPort: String(free[3]),
      });
      expect(await takenPort(stack)).toEqual({ name: "public", code: "EADDRINUSE" });
      holder.close();
      await once(holder, "close");
      expect(await takenPort(stack)).toBeUndefined();
    } finally {
      holder.close();
    }
  });
});
