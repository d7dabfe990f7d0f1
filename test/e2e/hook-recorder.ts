import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One web_hook call Kratos made: the path it called, in arrival order. */
export interface RecordedCall {
  path: string;
  method: string;
  /** Milliseconds since the recorder started. */
  at: number;
}

/**
 * The HTTP server every web_hook of a hook-table fixture points at (`RECORDER_ORIGIN/hooks/<id>`
 * for ours, `RECORDER_ORIGIN/audit/<name>` for someone else's). It writes down each call's path
 * in the order they arrive and answers 204 with no body: Kratos goes on, and a `response.parse`
 * hook changes nothing.
 */
export class HookRecorder {
  private readonly started = Date.now();
  readonly calls: RecordedCall[] = [];

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<HookRecorder> {
    let recorder: HookRecorder | undefined;
    const server = createServer((req, res) => {
      // Written down when the request arrives: the order Kratos called in.
      recorder?.calls.push({
        path: new URL(req.url ?? "/", "http://recorder").pathname,
        method: req.method ?? "",
        at: Date.now() - (recorder?.started ?? 0),
      });
      req.resume();
      req.on("end", () => {
        res.writeHead(204).end();
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    recorder = new HookRecorder(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return recorder;
  }

  /** A mark to read the calls made after it with `since`. */
  mark(): number {
    return this.calls.length;
  }

  /** The paths called since `mark`, in order. */
  since(mark: number): string[] {
    return this.calls.slice(mark).map((call) => call.path);
  }

  /** Resolves once every path of `paths` was called since `mark`; fails after `timeoutMs`. */
  async waitFor(mark: number, paths: readonly string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!paths.every((path) => this.since(mark).includes(path))) {
      if (Date.now() > deadline) {
        throw new Error(`within ${timeoutMs} ms, no call to ${paths.filter((path) => !this.since(mark).includes(path)).join(", ")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async close(): Promise<void> {
    this.server.close();
    this.server.closeAllConnections();
    await once(this.server, "close");
  }
}
