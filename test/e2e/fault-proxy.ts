import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request, type Server } from "node:http";

/** A request the proxy saw: method, path (with the query) and, for identity routes, the id. */
export interface Seen {
  method: string;
  path: string;
  id: string | undefined;
  /** What became of it. */
  outcome: Fault;
  /** Kratos's status, for a request it answered. */
  status?: number;
}

/**
 * What to do with a request:
 * - `{ status }` answers it without forwarding (Kratos never sees it);
 * - `drop` closes the connection without forwarding;
 * - `lose-answer` forwards it, lets Kratos commit, then closes the connection instead of answering;
 * - `forward` passes it on.
 */
export type Fault = { status: number; body?: unknown } | "drop" | "lose-answer" | "forward";

export type Rule = (request: {
  method: string;
  path: string;
  id: string | undefined;
  /** The identities a list request asks for (`?ids=…`: the backfill's batch re-read). */
  ids: string[];
  count: number;
  headers: IncomingHttpHeaders;
}) => Fault | Promise<Fault>;

/** `/admin/identities/<uuid>` → the uuid. */
function idOf(path: string): string | undefined {
  return /^\/admin\/identities\/([0-9a-f-]{36})(?:[/?]|$)/.exec(path)?.[1];
}

/**
 * A test-only proxy in front of Kratos's admin API that fails some requests on purpose, before
 * Kratos sees them or after Kratos has committed them, so the backfill's retries meet real faults
 * on a real connection. `count` is how many requests of the same method and id it has seen.
 */
export class FaultProxy {
  readonly seen: Seen[] = [];
  rule: Rule = () => "forward";

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(upstream: string): Promise<FaultProxy> {
    const target = new URL(upstream);
    let proxy: FaultProxy | undefined;
    const server = createServer(async (req, res) => {
      const body = await readAll(req);
      const path = req.url ?? "/";
      const id = idOf(path);
      const method = req.method ?? "GET";
      const count = (proxy?.seen.filter((s) => s.method === method && s.id === id && id !== undefined).length ?? 0) + 1;
      const ids = new URL(path, "http://proxy.invalid").searchParams.getAll("ids");
      const fault = (await proxy?.rule({ method, path, id, ids, count, headers: req.headers })) ?? "forward";
      const seen: Seen = { method, path, id, outcome: fault };
      proxy?.seen.push(seen);
      if (fault === "drop") {
        req.socket.destroy();
        return;
      }
      if (typeof fault === "object") {
        res.writeHead(fault.status, { "content-type": "application/json" });
        res.end(
          JSON.stringify(fault.body ?? { error: { code: fault.status, status: "injected", message: "injected by the fault proxy" } }),
        );
        return;
      }
      const out = request(
        { host: target.hostname, port: target.port, method, path, headers: { ...req.headers, host: target.host } },
        (answer) => {
          seen.status = answer.statusCode;
          if (fault === "lose-answer") {
            answer.resume();
            answer.on("end", () => req.socket.destroy());
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      out.on("error", () => req.socket.destroy());
      out.end(body);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no proxy address");
    proxy = new FaultProxy(server, `http://127.0.0.1:${address.port}`);
    return proxy;
  }

  /** The PATCH requests Kratos committed (answered 2xx, whether or not the answer reached the client), per identity. */
  patchesCommitted(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const s of this.seen) {
      if (s.method === "PATCH" && s.id !== undefined && s.status !== undefined && s.status < 300)
        counts.set(s.id, (counts.get(s.id) ?? 0) + 1);
    }
    return counts;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, "close");
  }
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
