import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type autocannon from "autocannon";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface ClosedLoopRequest {
  method: string;
  headers: Record<string, string>;
  /** A file holding the request body, if any. */
  bodyFile?: string;
}

/** autocannon in a process of its own, like the open-loop sender: a fresh heap for each run. */
export function closedLoop(url: string, req: ClosedLoopRequest, seconds: number, connections: number): autocannon.Result {
  const headers = Object.entries(req.headers).flatMap(([name, value]) => ["-H", `${name}=${value}`]);
  const body = req.bodyFile === undefined ? [] : ["-i", req.bodyFile];
  const args = ["-c", String(connections), "-d", String(seconds), "-m", req.method, ...headers, ...body, "-j", url];
  const out = execFileSync(`${ROOT}node_modules/.bin/autocannon`, args, {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  return JSON.parse(out) as autocannon.Result;
}
