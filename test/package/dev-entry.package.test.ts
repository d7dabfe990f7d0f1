// Issue 25's "done when", as a user does it from the packed tarball: `kratos-hooks init app`, the
// policy edited by hand, then `npx kratos-hooks dev --entry src/server.ts` against a real Kratos;
// an identity registered through the gateway with a national number carries the edited tag.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveKratosVersion } from "../../src/cli/kratos-binary.js";
import { KratosClient, passwordSignUp } from "../e2e/kratos-client.js";
import { freePort } from "../support/ports.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Keep npm's update check and funding notes out of the output. */
const QUIET = { NO_UPDATE_NOTIFIER: "1", DO_NOT_TRACK: "1", NO_COLOR: "1", FORCE_COLOR: "0" };
const TAG = 'signup_source: "my-app"';
const EDITED = 'signup_source: "edited-by-hand"';

let work = "";
let app = "";
let dev: ChildProcess | undefined;
let stdout = "";
let stderr = "";
const ports = { hooks: 0, gateway: 0, public: 0, admin: 0, sink: 0 };
const url = (port: number) => `http://127.0.0.1:${port}`;

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, ...QUIET }, maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(" ")} exited ${result.status} in ${cwd}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

async function waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test(stdout)) return;
    if (dev?.exitCode !== null) break;
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`no ${pattern} in dev's output.\nstdout:\n${stdout}\nstderr:\n${stderr}`);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "kratos-hooks-dev-entry-package-"));
  // `npm pack` runs `prepare` (the build) first, as publishing does.
  const packed = run("npm", ["pack", "--pack-destination", work, "--json"], ROOT);
  const tarball = join(work, (JSON.parse(packed) as { filename: string }[])[0]?.filename ?? "");

  // `init` from the tarball, installed where a person would run `npx kratos-hooks init` from.
  const installer = join(work, "installer");
  mkdirSync(installer);
  writeFileSync(join(installer, "package.json"), JSON.stringify({ name: "installer", private: true }));
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts", tarball], installer);
  run(process.execPath, [join(installer, "node_modules", "kratos-hooks", "dist", "src", "cli", "bin.js"), "init", "app"], work);
  app = join(work, "app");

  // The one change a user of the registry would not make: this version comes from the tarball.
  const manifest = join(app, "package.json");
  const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { dependencies: Record<string, string> };
  pkg.dependencies["kratos-hooks"] = `file:${tarball}`;
  writeFileSync(manifest, JSON.stringify(pkg, null, 2));
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], app);

  // The policy edited by hand: its tag's value.
  const policy = join(app, "src", "policies", "tag-signup.ts");
  const source = readFileSync(policy, "utf8");
  expect(source.split(TAG)).toHaveLength(2);
  writeFileSync(policy, source.replace(TAG, EDITED));

  for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
  const flags = Object.entries(ports).flatMap(([name, port]) => [`--${name}-port`, String(port)]);
  // The Kratos the e2e suite runs: KRATOS_BIN, else v26.2.0 from the cache or the provided archive.
  const kratosBin = process.env.KRATOS_BIN || resolveKratosVersion("v26.2.0").path;
  dev = spawn("npx", ["kratos-hooks", "dev", "--entry", "src/server.ts", ...flags], {
    cwd: app,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, KRATOS_BIN: kratosBin, ...QUIET },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own group: npx and dev get the Ctrl-C together, as in a terminal.
    detached: true,
  });
  dev.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  dev.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  await waitForOutput(/kratos-hooks dev: ready/, 120_000);
});

afterAll(async () => {
  if (dev?.pid !== undefined && dev.exitCode === null && dev.signalCode === null) {
    // SIGINT lets dev stop Kratos and the entry (their own process groups); SIGKILL if it hangs.
    process.kill(-dev.pid, "SIGINT");
    const timer = setTimeout(() => dev?.pid !== undefined && process.kill(-dev.pid, "SIGKILL"), 20_000);
    await once(dev, "exit");
    clearTimeout(timer);
  }
  if (work !== "") rmSync(work, { recursive: true, force: true });
}, 30_000);

describe("npx kratos-hooks dev --entry src/server.ts, in a project `kratos-hooks init` wrote", () => {
  it("runs the project's entry with the project's kratos/kratos.yml", () => {
    expect(stdout).toMatch(/\n {2}your service {3}src\/server\.ts {3}\(the hooks and the gateway; tsx [\d.]+ watch, your project's/);
    expect(stdout).toContain("  kratos config  kratos/kratos.yml   (your project's ./kratos/kratos.yml; Kratos runs in its folder)\n");
  });

  it("the policy edited by hand tags an identity registered through the gateway with a national number", async () => {
    const kratos = new KratosClient(url(ports.gateway), url(ports.admin));
    const res = await kratos.run("registration", passwordSignUp({ phone: "0176 1234 5694" }, "DE"));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const stored = (await kratos.admin.getIdentity({ id: res.body.identity?.id ?? "" })).data;
    expect(stored).toMatchObject({ traits: { phone: "+4917612345694" }, metadata_public: { signup_source: "edited-by-hand" } });
  });

  it("stops on Ctrl-C, Kratos, tsx and the entry with it", async () => {
    const child = dev as ChildProcess;
    process.kill(-(child.pid ?? 0), "SIGINT");
    // npx ends as the signal ended it; dev (its child) stops everything first and says so.
    const [code, signal] = await once(child, "exit");
    expect({ code, signal }, stderr).toEqual(code === null ? { code: null, signal: "SIGINT" } : { code: 0, signal: null });
    // Should npx end first, dev goes on stopping its children, and says when it is done.
    for (let i = 0; i < 100 && !stderr.includes("kratos-hooks dev: stopped"); i++) await new Promise((done) => setTimeout(done, 200));
    expect(stderr).toContain("kratos-hooks dev: stopped");
    expect(stderr).not.toContain("stopped unexpectedly");
    // Neither Kratos nor tsx and the entry outlive it.
    expect(execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })).not.toContain(join(app, "src", "server.ts"));
  }, 30_000);
});
