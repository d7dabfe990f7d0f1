import { once } from "node:events";
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { loadFixture, TEST_KEY } from "../support/helpers.js";
import { run, start } from "../support/server-process.js";

describe("the Node server, as a real process", () => {
  it("serves a real HTTP round trip", async () => {
    const server = await start();
    const res = await fetch(`http://127.0.0.1:${server.port}/hooks/registration-after`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(loadFixture("registration-after.password-phone-national")),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ identity: { schema_id: "phone", traits: { phone: "+4917612345678" } } });
    // Idle connections outlive Kratos's own 90 s idle timeout (Node's default would be 5 s).
    expect(res.headers.get("keep-alive")).toBe("timeout=95");
    expect((await fetch(`http://127.0.0.1:${server.port}/health`)).status).toBe(200);
    expect(server.lines.some((l) => l.msg === "hook call" && l.decision === "patch")).toBe(true);
  });

  it("on SIGTERM, finishes the request in flight, refuses new ones and exits 0", async () => {
    const server = await start();
    const body = Buffer.from(JSON.stringify(loadFixture("registration-after.password-phone-national")));
    const req = request({
      host: "127.0.0.1",
      port: server.port,
      method: "POST",
      path: "/hooks/registration-after",
      headers: { authorization: `Bearer ${TEST_KEY}`, "content-type": "application/json", "content-length": body.length },
    });
    const response = once(req, "response");
    // Half the body is sent: the request is in flight when the signal arrives.
    req.write(body.subarray(0, 100));
    await new Promise((r) => setTimeout(r, 150));
    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 150));
    await expect(fetch(`http://127.0.0.1:${server.port}/health`)).rejects.toThrow();
    req.end(body.subarray(100));

    const [res] = (await response) as [import("node:http").IncomingMessage];
    let text = "";
    for await (const chunk of res) text += chunk;
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(text)).toEqual({ identity: { schema_id: "phone", traits: { phone: "+4917612345678" } } });
    expect(await server.exit).toBe(0);
    expect(server.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(["draining: readiness answers 503, still serving", "stopped"]));
  });

  it("warns at start when it falls back to the development key", async () => {
    const server = await start({ HOOKS_API_KEYS: "" });
    expect(server.lines.find((l) => l.level === 40)?.msg).toMatch(/HOOKS_API_KEYS is not set/);
    const res = await fetch(`http://127.0.0.1:${server.port}/hooks/login-before`, {
      method: "POST",
      headers: { authorization: "Bearer dev-only-insecure-key", "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(400);
  });
});

describe("the Node server refuses to start on bad configuration (exit 78)", () => {
  it.each<[string, Record<string, string>, string]>([
    ["bad inline config", { HOOKS_CONFIG: '{"failMode":"half"}' }, 'failMode: expected one of "open"|"closed", found "half"'],
    [
      "missing config file",
      { HOOKS_CONFIG_FILE: "/nonexistent/hooks.json" },
      "HOOKS_CONFIG_FILE: expected a readable JSON file, found ENOENT",
    ],
    ["production without keys", { NODE_ENV: "production", HOOKS_API_KEYS: "" }, "HOOKS_API_KEYS: expected at least one API key"],
    ["a port that is not a number", { PORT: "http" }, 'PORT: expected an integer from 0 to 65535, found "http"'],
  ])("%s", async (_title, env, message) => {
    const proc = run({ PORT: "0", HOST: "127.0.0.1", HOOKS_API_KEYS: TEST_KEY, ...env });
    expect(await proc.exit).toBe(78);
    expect(proc.stderr()).toContain(message);
    expect(proc.stdout()).toBe("");
  });
});
