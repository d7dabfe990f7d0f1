import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { afterAll, beforeAll, beforeEach } from "vitest";

/** A request as the upstream received it: exactly the bytes and headers the gateway sent. */
export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What the upstream answers: a status, headers (Set-Cookie as a list) and a body; or it never answers. */
export type Answer = { status: number; headers?: OutgoingHttpHeaders; body?: string | Buffer; delayMs?: number } | "hang";

export interface Upstream {
  url: string;
  received: Received[];
  /** The next requests are answered with this (default: 200 with a small JSON body and two cookies). */
  answer: (request: Received) => Answer;
  close(): Promise<void>;
}

/** A body like Kratos's answers: JSON, with two cookies. */
export const DEFAULT_ANSWER: Answer = {
  status: 200,
  headers: {
    "content-type": "application/json; charset=utf-8",
    "set-cookie": ["csrf_token_abc=one; Path=/; HttpOnly; SameSite=Lax", "ory_kratos_session=two; Path=/; HttpOnly; SameSite=Lax"],
  },
  body: JSON.stringify({ id: "d9c6f0f5-0000-4000-8000-000000000000", state: "choose_method" }),
};

/**
 * A real HTTP server standing in for Kratos where the gateway's forwarding itself is under test:
 * it records each request exactly as it arrived and answers as told. (The flows themselves are
 * tested against the real Kratos in test/e2e/gateway.e2e.test.ts.)
 */
export async function startUpstream(): Promise<Upstream> {
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  const upstream: Upstream = {
    url: "",
    received,
    answer: () => DEFAULT_ANSWER,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: Received = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
      received.push(request);
      const answer = upstream.answer(request);
      if (answer === "hang") {
        hanging.add(res);
        return;
      }
      const reply = () => {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
      };
      if (answer.delayMs === undefined) reply();
      else setTimeout(reply, answer.delayMs);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no upstream address");
  upstream.url = `http://127.0.0.1:${address.port}`;
  return upstream;
}

/**
 * Gives a test file one upstream: started before its first test, closed after its last, emptied
 * and answering DEFAULT_ANSWER again before each test.
 */
export function useUpstream(): Upstream {
  let current: Upstream | undefined;
  beforeAll(async () => {
    current = await startUpstream();
  });
  afterAll(() => current?.close());
  beforeEach(() => {
    live().received.length = 0;
    live().answer = () => DEFAULT_ANSWER;
  });
  const live = (): Upstream => {
    if (current === undefined) throw new Error("the upstream starts in beforeAll");
    return current;
  };
  return {
    get url() {
      return live().url;
    },
    get received() {
      return live().received;
    },
    get answer() {
      return live().answer;
    },
    set answer(answer) {
      live().answer = answer;
    },
    close: () => live().close(),
  };
}
