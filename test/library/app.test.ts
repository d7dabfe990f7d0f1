// A policy of your own in the app, as a user wires it: the package's main entry (src/index.ts),
// driven through app.request() as Kratos calls it.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  builtInPolicies,
  createApp,
  createConsoleLogger,
  defineMessage,
  definePolicy,
  denyField,
  MESSAGES,
  type Policy,
  parseConfig,
  patchMetadataPublic,
  proceed,
} from "../../src/index.js";

const KEY = "library-key-0123456789abcdef";
const INVITE_REQUIRED = defineMessage({ key: "INVITE_REQUIRED", id: 4_190_001, text: "Sign-up is by invitation only." });

function appWith(policies: (config: ReturnType<typeof parseConfig>) => Policy[], raw: unknown = {}) {
  const lines: Record<string, unknown>[] = [];
  const config = parseConfig(raw);
  const app = createApp({
    config,
    apiKeys: [KEY],
    logger: createConsoleLogger("info", (line) => lines.push(JSON.parse(line))),
    policies: policies(config),
  });
  const call = (traits: Record<string, unknown>, metadata: unknown = null) =>
    app.request("/hooks/registration-after", {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify({
        flow: { id: "f", type: "api", ui: { nodes: [] } },
        identity: { id: "i", schema_id: "default", traits, metadata_public: metadata },
      }),
    });
  return { app, call, lines };
}

/** A real HTTP peer a policy waits on: it answers, or holds each request until the client goes away. */
async function startPeer(mode: "answer" | "hang") {
  const seen: IncomingMessage[] = [];
  const closed: string[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req);
    req.on("close", () => closed.push(req.url ?? ""));
    if (mode === "answer") res.end(req.url?.includes("invited") ? "yes" : "no");
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  peers.push(server);
  return { url, seen, closed };
}
const peers: Server[] = [];
afterEach(async () => {
  for (const server of peers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** An invite check over HTTP, the way the docs write one: the budget's signal goes to fetch. */
function inviteOnly(url: string): Policy {
  return definePolicy({
    name: "invite-only",
    hooks: ["registration-after"],
    async decide(input, { signal, logger }) {
      const email = String(input.identity.traits.email ?? "");
      const answer = await fetch(`${url}/invites/${encodeURIComponent(email)}`, { signal });
      const invited = (await answer.text()) === "yes";
      logger.info({ invited }, "invite checked");
      return invited ? proceed() : denyField("email", INVITE_REQUIRED);
    },
  });
}

describe("a policy of your own behind createApp", () => {
  it("denies on the field with its own message, in the body Kratos parses, and the log names both", async () => {
    const peer = await startPeer("answer");
    // Routing off: with it, the invited sign-up would also be moved to the email schema (a 200).
    const { call, lines } = appWith((config) => [...builtInPolicies(config), inviteOnly(peer.url)], { routeSchema: { enabled: false } });
    const res = await call({ email: "stranger@example.com" });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      messages: [
        {
          instance_ptr: "#/traits/email",
          messages: [{ id: 4_190_001, text: "Sign-up is by invitation only.", type: "error", context: {} }],
        },
      ],
    });
    expect(lines.at(-1)).toMatchObject({
      msg: "hook call",
      decision: "deny",
      status: 422,
      policy: "invite-only",
      messages: ["INVITE_REQUIRED"],
    });
    // The policy's own line carries the call's hook and request id.
    expect(lines.find((l) => l.msg === "invite checked")).toMatchObject({
      hook: "registration-after",
      requestId: lines.at(-1)?.requestId,
      invited: false,
    });
    expect(JSON.stringify(lines)).not.toContain("stranger@example.com");
    expect((await call({ email: "invited@example.com" })).status).toBe(204);
  });

  it("runs after the built-in policies and sees their patches: the phone is E.164 when it reads it", async () => {
    const seen: unknown[] = [];
    const tag = definePolicy({
      name: "tag",
      hooks: ["registration-after"],
      decide(input) {
        seen.push(input.identity.traits.phone);
        return patchMetadataPublic(input, { signup: "web" });
      },
    });
    const { call } = appWith((config) => [...builtInPolicies(config), tag], {
      normalizePhone: { defaultRegion: "DE" },
      routeSchema: { enabled: false },
    });
    const res = await call({ phone: "0176 12345678" }, { plan: "free" });
    expect(seen).toEqual(["+4917612345678"]);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      identity: { traits: { phone: "+4917612345678" }, metadata_public: { plan: "free", signup: "web" } },
    });
  });

  it.each([
    ["closed", 422],
    ["open", 204],
  ] as const)("when the peer hangs, the budget's signal cancels the fetch and failMode %s answers %i", async (failMode, status) => {
    const peer = await startPeer("hang");
    const { call, lines } = appWith(() => [inviteOnly(peer.url)], { budgetMs: 150, failMode });
    const res = await call({ email: "a@example.com" });
    expect(res.status).toBe(status);
    if (status === 422) expect(JSON.stringify(await res.json())).toContain('"id":4100901');
    expect(lines.find((l) => l.msg === "hook exceeded its time budget")).toMatchObject({ policy: "invite-only", budgetMs: 150, failMode });
    // The fetch was given the signal: the peer sees its request go away.
    await expect.poll(() => peer.closed.length).toBe(1);
  });

  it.each([
    ["closed", 422],
    ["open", 200],
  ] as const)(
    "a policy that throws is answered by failMode %s (%i), never a 500; its error line names it, with what it threw masked",
    async (failMode, status) => {
      const broken = definePolicy({
        name: "broken",
        hooks: ["registration-after"],
        decide(input) {
          throw new Error(`no row for ${String(input.identity.traits.email)}`);
        },
      });
      const { call, lines } = appWith((config) => [...builtInPolicies(config), broken], {
        failMode,
        normalizePhone: { defaultRegion: "DE" },
        routeSchema: { enabled: false },
      });
      const res = await call({ email: "mallory@example.org", phone: "0176 12345678" });
      expect(res.status).toBe(status);
      // Closed: the service's global message. Open: what the built-in policies before it settled.
      expect(await res.json()).toEqual(
        failMode === "closed"
          ? {
              messages: [
                {
                  instance_ptr: "#/",
                  messages: [{ id: 4_100_902, text: MESSAGES.HOOK_FAILED.text, type: "error", context: { reason: "error" } }],
                },
              ],
            }
          : { identity: { traits: { email: "mallory@example.org", phone: "+4917612345678" } } },
      );
      const logged = lines.find((l) => l.msg === "policy failed") as Record<string, unknown> & { err: { stack: string } };
      expect(logged).toMatchObject({
        level: 50,
        hook: "registration-after",
        policy: "broken",
        builtIn: false,
        failMode,
        status,
        err: { type: "Error" },
        failure: "policy broken on registration-after threw: no row for m***@example.org",
      });
      expect(logged.err.stack).toContain("Error: no row for m***@example.org");
      expect(lines.at(-1)).toMatchObject({ msg: "hook call", decision: "failed", policy: "broken", status, requestId: logged.requestId });
      expect(lines.some((l) => l.msg === "internal error")).toBe(false);
      expect(JSON.stringify(lines)).not.toContain("mallory@example.org");
    },
  );
});
