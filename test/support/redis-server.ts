import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

/** A `redis-server` of the test's own on a loopback port: never the system's on 6379. */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT/0`, with the password when there is one. */
  readonly url: string;
  readonly port: number;
  /** Stops it for good (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
  /** Kills it (SIGKILL, a crash): connections drop and new ones are refused until `start()`. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: it keeps nothing) and waits until it answers PING. */
  start(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open and nothing is answered until `resume()`. */
  pause(): void;
  resume(): void;
  /** What it wrote so far (its log goes to stdout). */
  output(): string;
}

const BINARY = process.env.REDIS_SERVER_BIN ?? "redis-server";

/** Fails with the fix when there is no redis-server: the Redis suite needs one and is never skipped. */
function checkBinary(): void {
  const probe = spawnSync(BINARY, ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `${BINARY} could not be run (${probe.error?.message ?? probe.stderr.trim()}). The Redis tests start their own server: ` +
        "install it with `apt-get install -y --no-install-recommends redis-server` (or set REDIS_SERVER_BIN).",
    );
  }
}

/** Whether something on `port` answers PING with +PONG (or asks for a password: it is up). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(500, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServer> {
  checkBinary();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "kh-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", ""];
  if (options.password !== undefined) args.push("--requirepass", options.password);
  let log = "";
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  // If the test process goes first, its servers go with it.
  const killOnExit = () => child?.kill("SIGKILL");
  process.once("exit", killOnExit);

  const start = async () => {
    const started = spawn(BINARY, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = started;
    exited = once(started, "exit");
    started.stdout?.on("data", (d) => {
      log += d;
    });
    started.stderr?.on("data", (d) => {
      log += d;
    });
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      if (started.exitCode !== null) break;
      if (await answersPing(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    started.kill("SIGKILL");
    throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within 10 s. Its output:\n${log}`);
  };
  const signal = async (name: NodeJS.Signals) => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGCONT");
    child.kill(name);
    await exited;
  };

  await start();
  const auth = options.password === undefined ? "" : `:${encodeURIComponent(options.password)}@`;
  return {
    url: `redis://${auth}127.0.0.1:${port}/0`,
    port,
    start,
    kill: () => signal("SIGKILL"),
    pause: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT"),
    output: () => log,
    async stop() {
      const timer = setTimeout(() => child?.kill("SIGKILL"), 5_000);
      await signal("SIGTERM");
      clearTimeout(timer);
      process.off("exit", killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
