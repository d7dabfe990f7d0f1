// `kratos-hooks init` as a new user meets it: from the packed tarball, in an empty folder,
// `npx kratos-hooks init app` (and `--worker`), then `npm install`, `npm test`, `npm run
// typecheck` and `npm start` in the project it wrote, with nothing read from src/. The one change
// a user of the registry would not make: the project's kratos-hooks comes from the tarball.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OFFLINE, run } from "../support/package-run.js";
import { freePort } from "../support/ports.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
const KEY = "init-package-test-key-0123456789";
let work = "";
let tarball = "";

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "kratos-hooks-init-package-"));
  // `npm pack` runs `prepare` (the build) first, as publishing does.
  const packed = execFileSync("npm", ["pack", "--pack-destination", work, "--json"], { cwd: ROOT, encoding: "utf8" });
  tarball = join(work, (JSON.parse(packed) as { filename: string }[])[0]?.filename ?? "");
});

afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true });
});

it("the tarball holds the templates, dotfiles under names npm pack keeps", () => {
  const files = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" }).split("\n");
  for (const file of [
    "templates/common/_gitignore",
    "templates/node/package.json",
    "templates/node/_env.example",
    "templates/worker/_dev.vars",
  ]) {
    expect(files).toContain(`package/${file}`);
  }
});

/** `npx kratos-hooks init app [--worker]` in an empty folder, kratos-hooks pointed at the tarball, `npm install`. */
function initAndInstall(mode: string, argv: string[]): string {
  const empty = join(work, mode);
  mkdirSync(empty);
  const init = run("npx", ["--yes", "--prefer-offline", "--package", tarball, "kratos-hooks", "init", "app", ...argv], empty);
  expect(init.code, init.output).toBe(0);
  expect(init.output).toContain("Next:\n  cd app\n  npm install\n  npm test");
  const app = join(empty, "app");
  const file = join(app, "package.json");
  const pkg = JSON.parse(readFileSync(file, "utf8")) as { type: string; dependencies: Record<string, string> };
  expect(pkg.type).toBe("module");
  expect(pkg.dependencies["kratos-hooks"]).toBe(`^${VERSION}`);
  pkg.dependencies["kratos-hooks"] = `file:${tarball}`;
  writeFileSync(file, JSON.stringify(pkg, null, 2));
  const installed = run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], app);
  expect(installed.code, installed.output).toBe(0);
  return app;
}

function expectTestsPass(app: string): string {
  const tested = run("npm", ["test"], app);
  expect(tested.code, tested.output).toBe(0);
  expect(tested.output).toMatch(/Tests\s+\d+ passed/);
  expect(tested.output).not.toMatch(/\d+ (failed|skipped)/);
  return tested.output;
}

/** The policy's tag edited by hand: the project's tests see it (they test the policy, not a copy). */
function expectTestsSeeAnEditedTag(app: string): void {
  const file = join(app, "src", "policies", "tag-signup.ts");
  const policy = readFileSync(file, "utf8");
  writeFileSync(file, policy.replace('signup_source: "my-app"', 'signup_source: "edited-app"'));
  try {
    const tested = run("npm", ["test"], app);
    expect(tested.code).not.toBe(0);
    expect(tested.output).toContain("edited-app");
  } finally {
    writeFileSync(file, policy);
  }
}

/** The body kratos/hooks/registration-after.jsonnet makes Kratos send for an email sign-up. */
const REGISTRATION = {
  flow: { id: "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", type: "browser" },
  identity: { schema_id: "default", traits: { email: "jane.doe@example.com" }, metadata_public: null },
  request_headers: { "User-Agent": ["Mozilla/5.0"] },
  request_method: "POST",
  request_url: "https://auth.example.com/self-service/registration?flow=5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
};

async function untilReady(url: string, { child, log }: Started): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`npm start exited (${child.exitCode ?? child.signalCode}):\n${log()}`);
    const ok = await fetch(url).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`npm start did not answer ${url} within 60 s:\n${log()}`);
}

interface Started {
  child: ChildProcess;
  log: () => string;
  /** Every process holding the output (npm, tsx, the server) has exited. */
  closed: Promise<unknown>;
}

/** `npm start` in a process group of its own, its output collected. */
function npmStart(app: string, env: Record<string, string>, script = "start"): Started {
  const child = spawn("npm", ["run", script], {
    cwd: app,
    env: { ...process.env, ...OFFLINE, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  // Listened for at once: a start that fails closes before anyone would ask.
  const closed = once(child, "close").catch(() => undefined);
  let log = "";
  child.stdout?.on("data", (d) => {
    log += d;
  });
  child.stderr?.on("data", (d) => {
    log += d;
  });
  return { child, log: () => log, closed };
}

/** SIGTERM to the group, SIGKILL if it lingers; resolves once the server, too, has exited. */
async function stop({ child, closed }: Started): Promise<void> {
  if (child.pid === undefined) return;
  const group = -child.pid;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(group, name);
    } catch {
      // the group is gone
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 15_000);
  await closed;
  clearTimeout(timer);
}

/**
 * Starts `npm run <script>` in the project on a free port, posts a registration-after, expects
 * the tag in the answer, and stops it (SIGTERM); the process, for its log.
 */
async function servesTheTag(app: string, env: Record<string, string>, script: string): Promise<Started> {
  const port = await freePort();
  const started = npmStart(app, { PORT: String(port), HOOKS_API_KEYS: KEY, SHUTDOWN_DRAIN_MS: "0", ...env }, script);
  try {
    await untilReady(`http://127.0.0.1:${port}/health`, started);
    const res = await fetch(`http://127.0.0.1:${port}/hooks/registration-after`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify(REGISTRATION),
    });
    const body = (await res.json()) as { identity?: { metadata_public?: Record<string, unknown> } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.identity?.metadata_public).toEqual({ signup_source: "my-app" });
  } finally {
    await stop(started);
  }
  return started;
}

describe("npx kratos-hooks init app: a Node project", () => {
  let app = "";
  beforeAll(() => {
    app = initAndInstall("node", []);
  });

  it("npm test passes", () => {
    expectTestsPass(app);
  });

  it("npm run typecheck passes", () => {
    const checked = run("npm", ["run", "typecheck"], app);
    expect(checked.code, checked.output).toBe(0);
  });

  it("npm start serves: a registration-after is answered with the tag", async () => {
    const started = await servesTheTag(app, { HOST: "127.0.0.1" }, "start");
    // handleSignals: true, as src/server.ts asks: SIGTERM drains, the listeners close in time.
    expect(started.log()).toMatch(/"clean":true,"msg":"stopped"/);
  });

  it("npm run build, then npm run start:prod serves the compiled JavaScript (no tsx)", async () => {
    const built = run("npm", ["run", "build"], app);
    expect(built.code, built.output).toBe(0);
    const started = await servesTheTag(app, {}, "start:prod");
    // HOST unset: the scaffold's server listens on loopback only.
    expect(started.log()).toMatch(/"listener":"hooks","host":"127\.0\.0\.1"/);
  });

  it("its tests fail when the policy's tag is edited", () => {
    expectTestsSeeAnEditedTag(app);
  });

  it("wrote nothing but the project (no stray files in the empty folder)", () => {
    expect(readdirSync(join(work, "node"))).toEqual(["app"]);
  });
});

describe("npx kratos-hooks init app --worker: a Cloudflare Worker project", () => {
  let app = "";
  beforeAll(() => {
    app = initAndInstall("worker", ["--worker"]);
  });

  it("npm test passes, inside workerd", () => {
    const output = expectTestsPass(app);
    // Both test files: the policy through kratos-hooks/testing and the Worker's own fetch.
    expect(output).toMatch(/Test Files\s+2 passed/);
  });

  it("npm run typecheck passes", () => {
    const checked = run("npm", ["run", "typecheck"], app);
    expect(checked.code, checked.output).toBe(0);
  });

  it("npm run build bundles it as wrangler would deploy it", () => {
    const built = run("npm", ["run", "build"], app);
    expect(built.code, built.output).toBe(0);
    expect(readdirSync(join(app, "dist"))).toContain("worker.js");
  });

  it("its tests fail when the policy's tag is edited", () => {
    expectTestsSeeAnEditedTag(app);
  });
});
