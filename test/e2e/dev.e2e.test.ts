import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { KratosClient, newPassword, passwordSignUp } from "./kratos-client.js";
import { freePort } from "./processes.js";
import { kratosAtLeast } from "./stack.js";

// `kratos-hooks dev` as a person runs it (the built CLI), on free ports with the Kratos binary the
// global setup found or built (src/cli/kratos-binary.ts): sign up with a national number and log in
// with an SMS code read from dev's own output, through the gateway; then Ctrl-C leaves nothing behind.
const BIN = fileURLToPath(new URL("../../dist/src/cli/bin.js", import.meta.url));

let dev: ChildProcess;
let stdout = "";
let stderr = "";
const ports = { hooks: 0, gateway: 0, public: 0, admin: 0, sink: 0 };
const url = (port: number) => `http://127.0.0.1:${port}`;

async function waitForOutput(pattern: RegExp, since = 0, timeoutMs = 90_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(stdout.slice(since));
    if (match) return match;
    if (dev.exitCode !== null) break;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`no ${pattern} in dev's output.\nstdout:\n${stdout}\nstderr:\n${stderr}`);
}

/** Every pid whose parent is `pid`, recursively (from /proc, via ps). */
function descendants(pid: number): number[] {
  const rows = execFileSync("ps", ["-e", "-o", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of rows) {
      if (ppid === parent) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

/** Still running: listed in /proc and not a zombie (an ended process whose exit status nobody read yet). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** `ps` lines of the given pids, for a failure message. */
function psLines(pids: number[]): string {
  if (pids.length === 0) return "";
  try {
    return execFileSync("ps", ["-o", "pid,ppid,stat,args", "-p", pids.join(",")], { encoding: "utf8" });
  } catch {
    return "";
  }
}

async function portOpen(port: number): Promise<boolean> {
  const socket = createConnection(port, "127.0.0.1");
  try {
    await Promise.race([once(socket, "connect"), once(socket, "error").then(([e]) => Promise.reject(e))]);
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

beforeAll(async () => {
  for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
  const args = [
    BIN,
    "dev",
    "--hooks-port",
    String(ports.hooks),
    "--gateway-port",
    String(ports.gateway),
    "--public-port",
    String(ports.public),
    "--admin-port",
    String(ports.admin),
    "--sink-port",
    String(ports.sink),
  ];
  dev = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, KRATOS_BIN: inject("kratosBin"), LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  dev.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  dev.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  await waitForOutput(/kratos-hooks dev: ready/);
}, 120_000);

afterAll(() => {
  if (dev.exitCode === null) dev.kill("SIGKILL");
});

describe("kratos-hooks dev", () => {
  const password = newPassword();
  const national = "0176 1234 5690";
  const e164 = "+4917612345690";
  const viaGateway = () => new KratosClient(url(ports.gateway), url(ports.admin));

  it("prints the URLs and a registration and login example through the gateway", () => {
    expect(stdout).toContain(`gateway        ${url(ports.gateway)}`);
    expect(stdout).toContain(`kratos admin   ${url(ports.admin)}`);
    // The release the binary it runs reports (`kratos version`): v1.3.1 or v26.2.0 (test/e2e/run.ts).
    expect(stdout).toContain(`kratos         ${inject("kratosVersion")} (\`kratos version\` of ${inject("kratosBin")})\n`);
    expect(stderr).toContain(`Kratos ${inject("kratosVersion")}: ${inject("kratosBin")} (KRATOS_BIN)\n`);
    expect(stdout).toContain(`curl -s ${url(ports.gateway)}/self-service/registration/api`);
    expect(stdout).toContain(`"${url(ports.gateway)}/self-service/login?flow=$flow"`);
  });

  it("Kratos's public base_url is the gateway", async () => {
    const flow = await viaGateway().createFlow("login");
    expect(flow.status).toBe(200);
    expect(flow.body.ui?.action).toMatch(new RegExp(`^${url(ports.gateway)}/self-service/login\\?flow=`));
  });

  it("registers with a national number through the gateway: stored as E.164", async () => {
    const res = await viaGateway().run("registration", passwordSignUp({ phone: national }, "DE", password));
    expect(res.status).toBe(200);
    const stored = (await viaGateway().admin.getIdentity({ id: res.body.identity?.id ?? "" })).data;
    expect(stored).toMatchObject({ schema_id: "phone", traits: { phone: e164 } });
    // Kratos texts a verification code to the normalized number; the sink prints it.
    await waitForOutput(new RegExp(`SMS to \\${e164} \\(verification_code_valid\\): (\\d{6})`));
  });

  it("logs in with the SMS code read from dev's output, the number typed nationally", async () => {
    const client = viaGateway();
    const flow = await client.createFlow("login");
    const since = stdout.length;
    const region = { transient_payload: { phone_region: "DE" } };
    const asked = await client.submit("login", flow.body.id ?? "", { method: "code", identifier: national, ...region });
    expect(asked.status).toBe(400);
    const [, code] = await waitForOutput(new RegExp(`SMS to \\${e164} \\(login_code_valid\\): (\\d{6})`), since);
    const res = await client.submit("login", flow.body.id ?? "", { method: "code", identifier: national, code, ...region });
    expect(res.status).toBe(200);
    expect(res.body.session?.identity.traits).toEqual({ phone: e164 });
  });

  it("logs in with the password and the national number", async () => {
    const res = await viaGateway().run("login", {
      method: "password",
      identifier: national,
      password,
      transient_payload: { phone_region: "DE" },
    });
    expect(res.status).toBe(200);
  });

  it("phone-only sign-up by SMS code: on v25.4+ the commands dev prints sign up a phone-only identity; on v1.3.1 dev says what it needs", async () => {
    const header = "Phone-only sign-up by SMS code (Kratos v25.4+";
    if (!kratosAtLeast("v25.4.0")) {
      expect(stdout).toContain("Phone-only sign-up by SMS code needs Kratos v25.4+ (--kratos-version v26.2.0).");
      expect(stdout).not.toContain(header);
      return;
    }
    // The printed commands, run as printed (curl and jq), with the code read from dev's output.
    const block = stdout.slice(stdout.indexOf(header)).split("\n\n")[1] ?? "";
    const commands = block
      .replace(/ \\\n\s*/g, " ")
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
    expect(commands).toHaveLength(3);
    const [create, send, confirm] = commands as [string, string, string];
    const since = stdout.length;
    const sh = (script: string) => execFileSync("bash", ["-c", script], { encoding: "utf8" }).trim();
    const sent = sh(`${create}\necho "$flow"\n${send}`).split("\n");
    expect(sent[1]).toBe('"sent_email"');
    const [, code] = await waitForOutput(/SMS to \+4917612345679 \(registration_code_valid\): (\d{6})/, since);
    const traits = JSON.parse(sh(`flow=${sent[0]}\n${confirm.replace("<the code>", code ?? "")}`));
    expect(traits).toEqual({ phone: "+4917612345679" });
    const [identity] = await viaGateway().identitiesWith("+4917612345679");
    expect(identity).toMatchObject({ schema_id: "phone", verifiable_addresses: [expect.objectContaining({ verified: true })] });
  });

  it("stops everything on SIGINT: exit 0, the ports closed, no child left", async () => {
    const pid = dev.pid ?? 0;
    const children = descendants(pid);
    expect(children.length).toBeGreaterThanOrEqual(2); // Kratos and the hooks server
    dev.kill("SIGINT");
    const [code] = await once(dev, "exit");
    expect(code).toBe(0);
    for (const port of Object.values(ports)) expect(await portOpen(port), `port ${port}`).toBe(false);
    const left = children.filter(alive);
    expect(left, psLines(left)).toEqual([]);
    expect(stderr).toContain("kratos-hooks dev: stopped");
  }, 30_000);
});
