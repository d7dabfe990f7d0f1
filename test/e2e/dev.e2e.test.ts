import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { KratosClient, newPassword, passwordSignUp } from "./kratos-client.js";
import { freePort } from "./processes.js";
import { kratosAtLeast } from "./stack.js";

// `kratos-hooks dev` as a person runs it (the built CLI), on free ports with the Kratos binary the
// global setup found or built (src/cli/kratos-binary.ts): sign up with a national number and log in
// with an SMS code read from dev's own output, through the gateway; then Ctrl-C leaves nothing behind.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "dist/src/cli/bin.js");
const url = (port: number) => `http://127.0.0.1:${port}`;

/** `kratos-hooks dev` running as a child: its output so far, and a wait for a line in it. */
interface Dev {
  proc: ChildProcess;
  stdout: string;
  stderr: string;
}

/** Waits for `pattern` in dev's stdout (from offset `since`), or its stderr when `stream` says so. */
async function waitForOutput(
  d: Dev,
  pattern: RegExp,
  since = 0,
  timeoutMs = 90_000,
  stream: "stdout" | "stderr" = "stdout",
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(d[stream].slice(since));
    if (match) return match;
    if (d.proc.exitCode !== null) break;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`no ${pattern} in dev's ${stream}.\nstdout:\n${d.stdout}\nstderr:\n${d.stderr}`);
}

type Ports = { hooks: number; gateway: number; public: number; admin: number; sink: number };

/** Starts the built CLI's `dev` on free ports, with the Kratos binary of the run, and waits until it is ready. */
async function startDev(extra: string[] = [], cwd?: string): Promise<{ dev: Dev; ports: Ports }> {
  const ports: Ports = { hooks: 0, gateway: 0, public: 0, admin: 0, sink: 0 };
  for (const key of Object.keys(ports) as (keyof Ports)[]) ports[key] = await freePort();
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
    ...extra,
  ];
  const proc = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, KRATOS_BIN: inject("kratosBin"), LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const dev: Dev = { proc, stdout: "", stderr: "" };
  proc.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    dev.stdout += chunk;
  });
  proc.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    dev.stderr += chunk;
  });
  await waitForOutput(dev, /kratos-hooks dev: ready/);
  return { dev, ports };
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

/** SIGINT to dev: exit 0, every port closed, none of its (at least `atLeast`) descendants left. */
async function expectCleanStop(d: Dev, ports: Ports, atLeast: number): Promise<void> {
  const children = descendants(d.proc.pid ?? 0);
  expect(children.length).toBeGreaterThanOrEqual(atLeast);
  d.proc.kill("SIGINT");
  const [code] = await once(d.proc, "exit");
  expect(code).toBe(0);
  for (const port of Object.values(ports)) expect(await portOpen(port), `port ${port}`).toBe(false);
  const left = children.filter(alive);
  expect(left, psLines(left)).toEqual([]);
  expect(d.stderr).toContain("kratos-hooks dev: stopped");
}

describe("kratos-hooks dev", () => {
  let d: Dev;
  let ports: Ports;
  beforeAll(async () => {
    ({ dev: d, ports } = await startDev());
  }, 120_000);
  afterAll(() => {
    if (d !== undefined && d.proc.exitCode === null) d.proc.kill("SIGKILL");
  });

  const password = newPassword();
  const national = "0176 1234 5690";
  const e164 = "+4917612345690";
  const viaGateway = () => new KratosClient(url(ports.gateway), url(ports.admin));

  it("prints the URLs and a registration and login example through the gateway", () => {
    expect(d.stdout).toContain(`gateway        ${url(ports.gateway)}`);
    expect(d.stdout).toContain(`kratos admin   ${url(ports.admin)}`);
    // The release the binary it runs reports (`kratos version`): v1.3.1 or v26.2.0 (test/e2e/run.ts).
    expect(d.stdout).toContain(`kratos         ${inject("kratosVersion")} (\`kratos version\` of ${inject("kratosBin")})\n`);
    expect(d.stderr).toContain(`Kratos ${inject("kratosVersion")}: ${inject("kratosBin")} (KRATOS_BIN)\n`);
    expect(d.stdout).toContain(`curl -s ${url(ports.gateway)}/self-service/registration/api`);
    expect(d.stdout).toContain(`"${url(ports.gateway)}/self-service/login?flow=$flow"`);
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
    await waitForOutput(d, new RegExp(`SMS to \\${e164} \\(verification_code_valid\\): (\\d{6})`));
  });

  it("logs in with the SMS code read from dev's output, the number typed nationally", async () => {
    const client = viaGateway();
    const flow = await client.createFlow("login");
    const since = d.stdout.length;
    const region = { transient_payload: { phone_region: "DE" } };
    const asked = await client.submit("login", flow.body.id ?? "", { method: "code", identifier: national, ...region });
    expect(asked.status).toBe(400);
    const [, code] = await waitForOutput(d, new RegExp(`SMS to \\${e164} \\(login_code_valid\\): (\\d{6})`), since);
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
      expect(d.stdout).toContain("Phone-only sign-up by SMS code needs Kratos v25.4+ (--kratos-version v26.2.0).");
      expect(d.stdout).not.toContain(header);
      return;
    }
    // The printed commands, run as printed (curl and jq), with the code read from dev's output.
    const block = d.stdout.slice(d.stdout.indexOf(header)).split("\n\n")[1] ?? "";
    const commands = block
      .replace(/ \\\n\s*/g, " ")
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
    expect(commands).toHaveLength(3);
    const [create, send, confirm] = commands as [string, string, string];
    const since = d.stdout.length;
    const sh = (script: string) => execFileSync("bash", ["-c", script], { encoding: "utf8" }).trim();
    const sent = sh(`${create}\necho "$flow"\n${send}`).split("\n");
    expect(sent[1]).toBe('"sent_email"');
    const [, code] = await waitForOutput(d, /SMS to \+4917612345679 \(registration_code_valid\): (\d{6})/, since);
    const traits = JSON.parse(sh(`flow=${sent[0]}\n${confirm.replace("<the code>", code ?? "")}`));
    expect(traits).toEqual({ phone: "+4917612345679" });
    const [identity] = await viaGateway().identitiesWith("+4917612345679");
    expect(identity).toMatchObject({ schema_id: "phone", verifiable_addresses: [expect.objectContaining({ verified: true })] });
  });

  it("stops everything on SIGINT: exit 0, the ports closed, no child left", async () => {
    await expectCleanStop(d, ports, 2); // Kratos and the hooks server
  }, 30_000);
});

// `dev --entry` with a project of one's own: a policy that tags new identities, in a file the
// entry imports, and the project's Kratos config (`--config`, a copy of the shipped kratos/ and
// schemas/ with its own phone label). tsx watch reruns the entry when the policy is edited.
describe("kratos-hooks dev --entry <file> --config <kratos.yml>", () => {
  let d: Dev;
  let ports: Ports;
  let project = "";
  const viaGateway = () => new KratosClient(url(ports.gateway), url(ports.admin));
  const LABEL = "Mobile number (this project's schema)";
  const policyFile = () => join(project, "src", "tag-signup.ts");

  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), "kratos-hooks-dev-entry-"));
    const dist = (file: string) => pathToFileURL(join(ROOT, "dist", "src", file)).href;
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-app", private: true, type: "module" }));
    mkdirSync(join(project, "src"));
    writeFileSync(
      policyFile(),
      `import { definePolicy, patchMetadataPublic } from "${dist("index.js")}";

export const tagSignup = definePolicy({
  name: "tag-signup",
  hooks: ["registration-after"],
  decide: (input) => patchMetadataPublic(input, { signup_source: "first-tag" }),
});
`,
    );
    writeFileSync(
      join(project, "src", "server.ts"),
      `import { builtInPolicies } from "${dist("index.js")}";
import { serve } from "${dist("node.js")}";
import { tagSignup } from "./tag-signup.ts";

await serve({ policies: (config) => [...builtInPolicies(config), tagSignup], handleSignals: true });
`,
    );
    // The Kratos config in a folder of its own name, not ./kratos/ (which dev would take without --config).
    cpSync(join(ROOT, "kratos"), join(project, "ory"), { recursive: true, filter: (path) => !/\/(build|examples)$/.test(path) });
    cpSync(join(ROOT, "schemas"), join(project, "schemas"), { recursive: true });
    const schema = join(project, "schemas", "default.schema.json");
    writeFileSync(schema, readFileSync(schema, "utf8").replace('"title": "Phone number"', `"title": "${LABEL}"`));
    ({ dev: d, ports } = await startDev(["--entry", "src/server.ts", "--config", "ory/kratos.yml"], project));
  }, 120_000);

  afterAll(() => {
    if (d !== undefined && d.proc.exitCode === null) d.proc.kill("SIGKILL");
    if (project !== "") rmSync(project, { recursive: true, force: true });
  });

  /** Registers `national` through the gateway and reads the identity back from the admin API. */
  async function register(national: string) {
    const res = await viaGateway().run("registration", passwordSignUp({ phone: national }, "DE"));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (await viaGateway().admin.getIdentity({ id: res.body.identity?.id ?? "" })).data;
  }

  it("says whose service runs and which kratos.yml, and what dev changed in it", () => {
    expect(d.stdout).toMatch(/\n {2}your service {3}src\/server\.ts {3}\(the hooks and the gateway; tsx [\d.]+ watch/);
    expect(d.stdout).toContain("  kratos config  ory/kratos.yml   (yours, --config; Kratos runs in its folder)\n");
    expect(d.stdout).toContain(
      `dev moved http://127.0.0.1:8787 → ${url(ports.hooks)} (6×), http://127.0.0.1:4480 → ${url(ports.sink)} (2×) in a copy`,
    );
    expect(d.stdout).toContain("jq '.identity | {traits, metadata_public}'");
  });

  it("Kratos reads the project's config, its identity schemas resolved from its folder", async () => {
    const flow = await viaGateway().createFlow("registration");
    expect(flow.status).toBe(200);
    const phone = flow.body.ui?.nodes.find((n) => n.attributes.name === "traits.phone") as
      | { meta?: { label?: { text?: string } } }
      | undefined;
    expect(phone?.meta?.label?.text).toBe(LABEL);
  });

  it("a national number registered through the gateway: E.164, tagged by the entry's policy", async () => {
    const stored = await register("0176 1234 5691");
    expect(stored).toMatchObject({ traits: { phone: "+4917612345691" }, metadata_public: { signup_source: "first-tag" } });
  });

  it("the registration dev prints runs the project's policy", () => {
    const block = d.stdout.slice(d.stdout.indexOf("Register with a national number")).split("\n\n")[1] ?? "";
    const [create, register] = block
      .replace(/ \\\n\s*/g, " ")
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
    const printed = JSON.parse(execFileSync("bash", ["-c", `${create}\n${register}`], { encoding: "utf8" }));
    expect(printed).toEqual({ traits: { phone: "+4917612345678" }, metadata_public: { signup_source: "first-tag" } });
  });

  it("the policy edited: tsx watch reruns the entry, dev says when it is ready, the new tag is on the next identity", async () => {
    const since = d.stdout.length;
    writeFileSync(policyFile(), readFileSync(policyFile(), "utf8").replace('"first-tag"', '"edited-tag"'));
    await waitForOutput(d, /tsx watch reran your service \(src\/server\.ts\): src\/tag-signup\.ts changed\n/, since, 30_000);
    await waitForOutput(d, /your service \(src\/server\.ts\) is ready again\n/, since, 30_000);
    const stored = await register("0176 1234 5692");
    expect(stored).toMatchObject({ traits: { phone: "+4917612345692" }, metadata_public: { signup_source: "edited-tag" } });
  }, 60_000);

  it("an edit that breaks the entry: dev says so with its log and keeps running; the fix brings it back", async () => {
    const since = d.stderr.length;
    const good = readFileSync(policyFile(), "utf8");
    writeFileSync(policyFile(), `${good}\nthrow new Error("broken on purpose");\n`);
    await waitForOutput(
      d,
      /your service \(src\/server\.ts\) exited with code 1; tsx watch reruns it when you save a change/,
      since,
      30_000,
      "stderr",
    );
    expect(d.stderr.slice(since)).toContain("broken on purpose");
    expect(d.proc.exitCode).toBeNull();
    const sinceOut = d.stdout.length;
    writeFileSync(policyFile(), good);
    await waitForOutput(d, /your service \(src\/server\.ts\) is ready again\n/, sinceOut, 30_000);
    expect((await register("0176 1234 5693")).metadata_public).toEqual({ signup_source: "edited-tag" });
  }, 60_000);

  it("stops everything on SIGINT, tsx and the entry included", async () => {
    await expectCleanStop(d, ports, 3); // Kratos, tsx watch and the entry it runs
  }, 30_000);
});
