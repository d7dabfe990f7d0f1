// The gateway as an HTTP/1.1 intermediary, case by case along RFC 9112 §6 (message body) and §9
// (connection management): raw bytes from a client, a strict recording upstream behind the
// gateway (test/support/raw-http.ts), and what each side must see. The table is shared by the
// Node process (test/adapters/node-gateway-conformance.test.ts) and the Worker in wrangler dev
// (test/worker/wrangler-dev.test.ts).
import { expect } from "vitest";
import { type Exchange, exchange, headerValues, type ParsedRequest, type RecordedAnswer, type Recorder } from "../support/raw-http.js";

export const HOST = "auth.example.test";

/** A complete request hidden in a body: if the upstream ever parses it, the gateway smuggled it. */
export const SMUGGLED = `GET /smuggled HTTP/1.1\r\nHost: ${HOST}\r\nX-Case: smuggled\r\n\r\n`;
/**
 * A request hidden in a body that declares more body than it has, so that the next request on the
 * upstream connection would become its body (how a session token was read from another client).
 */
export const CAPTURING = `POST /self-service/registration?flow=x HTTP/1.1\r\nHost: ${HOST}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 400\r\n\r\ntraits.email=`;

/** A request head: the request line, Host, `X-Case: <id>`, then `lines`. */
export function head(method: string, target: string, id: string, lines: string[] = [], version = "HTTP/1.1"): string {
  return `${method} ${target} ${version}\r\nHost: ${HOST}\r\nX-Case: ${id}\r\n${lines.map((l) => `${l}\r\n`).join("")}\r\n`;
}

/** A chunked body of `parts` (each one chunk), then the last chunk. */
export function chunked(...parts: string[]): string {
  return `${parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join("")}0\r\n\r\n`;
}

/** What the upstream must parse for one forwarded request. */
export interface Forwarded {
  method: string;
  target: string;
  /** The body it must read (default: none). */
  body?: string;
}

/** What a case must show on each side. */
interface Expectation {
  /** What the upstream must parse, in order; `[]`: nothing reaches Kratos. */
  upstream: Forwarded[];
  /** The statuses the client must get, in order. */
  statuses: number[];
  /** The client's connection must be closed after the last answer. */
  closed?: boolean;
}

export interface ConformanceCase extends Expectation {
  /** The RFC 9112 section the case checks. */
  section: string;
  name: string;
  /** The bytes the client writes, each part a separate write. */
  send: string[];
  /** The client's requests' methods, in order: one answer each is expected. */
  methods: string[];
  /** How the upstream answers (default: 200 naming the request's X-Case). */
  answer?: (request: ParsedRequest) => RecordedAnswer;
  /** More to check about the client's side. */
  check?: (result: Exchange) => void;
  /**
   * On the Worker, where the runtime reads the client's bytes and `fetch()` frames what goes
   * out: what differs, and why. The upstream side must still hold: what it parses is one
   * well-framed message per request the runtime read, each with the gateway's marker.
   */
  worker?: Partial<Expectation> & {
    why: string;
    /** The answers the runtime itself wrote (workerd's plain 500 or 501, not the Worker's). */
    runtimeAnswers?: boolean;
    methods?: string[];
  };
}

const METHODS_WITH_BODIES = ["GET", "HEAD", "DELETE", "OPTIONS", "POST", "PUT", "PATCH"] as const;

/** Every answer a client receives: well framed, and naming its own request when it is the upstream's echo. */
function ownAnswers(ids: string[]): (result: Exchange) => void {
  return (result) => {
    for (const [i, response] of result.responses.entries()) {
      if (response.status !== 200 || response.body.length === 0) continue;
      expect(JSON.parse(response.body.toString()).case, `answer ${i}`).toBe(ids[i]);
    }
  };
}

/** On the Worker: workerd's own HTTP server refuses the request with a plain 500, and the Worker never sees it. */
const WORKERD_REFUSES: ConformanceCase["worker"] = {
  upstream: [],
  statuses: [500],
  closed: true,
  runtimeAnswers: true,
  why: "workerd's HTTP server refuses it itself (a plain 500); the Worker never sees it",
};

/** On the Worker: workerd's server reads it as one chunked POST of "hello", which the Worker forwards as it was given. */
function workerdForwards(why: string): ConformanceCase["worker"] {
  return { upstream: [{ method: "POST", target: "/sessions/whoami", body: "hello" }], statuses: [200], closed: false, why };
}

/** A POST the gateway must refuse: 400, the connection closed, nothing forwarded. */
function refused(section: string, name: string, request: string, worker: ConformanceCase["worker"]): ConformanceCase {
  return { section, name, send: [request], methods: ["POST"], upstream: [], statuses: [400], closed: true, worker };
}

/** Each method with a body framed by `lines`, holding a whole request: one request upstream, with that body. */
function bodyOnEachMethod(section: string, framing: string, lines: string[], body: string): ConformanceCase[] {
  return METHODS_WITH_BODIES.map((method) => ({
    section,
    name: `${method} with a ${framing} body holding a whole request: one request upstream, the body its body`,
    send: [head(method, "/sessions/whoami", `${framing}-${method}`, lines) + body],
    methods: [method],
    upstream: [{ method, target: "/sessions/whoami", body: SMUGGLED }],
    statuses: [200],
    check: ownAnswers([`${framing}-${method}`]),
    ...((method === "GET" || method === "HEAD") && {
      worker: {
        upstream: [{ method, target: "/sessions/whoami" }],
        why: "fetch() cannot send a body with GET or HEAD: the Worker drops it",
      },
    }),
  }));
}

export const CASES: ConformanceCase[] = [
  // §6.1 Transfer-Encoding: a chunked body on any method is one message, framed on the way out.
  ...bodyOnEachMethod("§6.1", "chunked", ["Transfer-Encoding: chunked"], chunked(SMUGGLED)),
  {
    section: "§6.1",
    name: "a smuggled request that declares more body than it has, then another client's request on the same upstream connection",
    send: [head("GET", "/self-service/login/browser", "capture-1", ["Transfer-Encoding: chunked"]) + chunked(CAPTURING)],
    methods: ["GET"],
    upstream: [{ method: "GET", target: "/self-service/login/browser", body: CAPTURING }],
    statuses: [200],
    check: ownAnswers(["capture-1"]),
    worker: { upstream: [{ method: "GET", target: "/self-service/login/browser" }], why: "fetch() drops a GET body" },
  },
  {
    section: "§7.1",
    name: "chunks in several writes: one body (Kratos's logout reads a JSON body on DELETE)",
    send: [
      head("DELETE", "/self-service/logout/api", "writes", ["Transfer-Encoding: chunked", "Content-Type: application/json"]),
      '7\r\n{"sessi\r\n',
      'e\r\non_token":"t"}\r\n0\r\n\r\n',
    ],
    methods: ["DELETE"],
    upstream: [{ method: "DELETE", target: "/self-service/logout/api", body: '{"session_token":"t"}' }],
    statuses: [200],
  },
  {
    section: "§7.1.1",
    name: "a chunk extension: ignored, the chunk read",
    send: [
      `${head("DELETE", "/self-service/logout/api", "ext", ["Transfer-Encoding: chunked", "Content-Type: application/json"])}15;ext="1"\r\n{"session_token":"t"}\r\n0\r\n\r\n`,
    ],
    methods: ["DELETE"],
    upstream: [{ method: "DELETE", target: "/self-service/logout/api", body: '{"session_token":"t"}' }],
    statuses: [200],
    worker: {
      upstream: [{ method: "DELETE", target: "/self-service/logout/api" }],
      closed: true,
      why: "workerd's HTTP server (wrangler dev) hands the Worker an empty body when a chunk has an extension, then closes the connection",
    },
  },
  {
    section: "§7.1.2",
    name: "a trailer section: read, and not forwarded",
    send: [`${head("POST", "/sessions/whoami", "trailer", ["Transfer-Encoding: chunked"])}5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n`],
    methods: ["POST"],
    upstream: [{ method: "POST", target: "/sessions/whoami", body: "hello" }],
    statuses: [200],
    worker: {
      methods: ["POST", "GET"],
      statuses: [200, 501],
      closed: true,
      runtimeAnswers: true,
      why: "workerd's HTTP server ends the body at the last chunk and reads the trailer section as a second request, which it answers 501 and closes; nothing of it reaches the Worker",
    },
  },
  {
    section: "§6.1",
    name: "Transfer-Encoding in another case (Chunked): chunked, as Go reads it",
    send: [head("POST", "/sessions/whoami", "te-case", ["Transfer-Encoding: Chunked"]) + chunked("hello")],
    methods: ["POST"],
    upstream: [{ method: "POST", target: "/sessions/whoami", body: "hello" }],
    statuses: [200],
  },
  refused(
    "§6.1",
    "Transfer-Encoding: gzip, chunked (Node de-chunks it, Go answers 501): refused",
    head("POST", "/sessions/whoami", "te-gzip", ["Transfer-Encoding: gzip, chunked"]) + chunked("hello"),
    WORKERD_REFUSES,
  ),
  refused(
    "§6.1",
    "two Transfer-Encoding fields, each chunked: refused",
    head("POST", "/sessions/whoami", "te-twice", ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"]) + chunked("hello"),
    workerdForwards("workerd's HTTP server reads two chunked fields as chunked; the Worker forwards the one request it was given"),
  ),
  refused(
    "§6.1",
    "Transfer-Encoding: chunked, gzip (chunked not last): refused by Node's parser, in Kratos's shape",
    head("POST", "/sessions/whoami", "te-last", ["Transfer-Encoding: chunked, gzip"]) + chunked("hello"),
    WORKERD_REFUSES,
  ),
  refused(
    "§6.1",
    "a Transfer-Encoding on HTTP/1.0 (faulty framing): refused",
    head("POST", "/sessions/whoami", "te-10", ["Transfer-Encoding: chunked"], "HTTP/1.0") + chunked("hello"),
    workerdForwards(
      "workerd's HTTP server reads the chunked body of an HTTP/1.0 request; the Worker forwards the one request it was given",
    ),
  ),
  refused(
    "§6.1",
    "Content-Length beside Transfer-Encoding: refused",
    head("POST", "/sessions/whoami", "cl-te", ["Content-Length: 5", "Transfer-Encoding: chunked"]) + chunked("hello"),
    workerdForwards(
      "workerd's HTTP server lets Transfer-Encoding win (RFC 9112 §6.3 allows it); the Worker forwards the one request it was given",
    ),
  ),
  // §6.2 Content-Length.
  ...bodyOnEachMethod("§6.2", "Content-Length", [`Content-Length: ${Buffer.byteLength(SMUGGLED)}`], SMUGGLED),
  refused(
    "§6.2",
    "two Content-Length fields with one value: refused",
    `${head("POST", "/sessions/whoami", "cl-twice", ["Content-Length: 5", "Content-Length: 5"])}hello`,
    WORKERD_REFUSES,
  ),
  refused(
    "§6.2",
    "two Content-Length fields with different values: refused",
    `${head("POST", "/sessions/whoami", "cl-differ", ["Content-Length: 5", "Content-Length: 6"])}hello!`,
    WORKERD_REFUSES,
  ),
  refused(
    "§6.2",
    "Content-Length: +5 (not digits): refused",
    `${head("POST", "/sessions/whoami", "cl-plus", ["Content-Length: +5"])}hello`,
    WORKERD_REFUSES,
  ),
  // §5 Field syntax: what Node's parser refuses, Go's tolerates in part; refused before anything is read.
  refused(
    "§5.2",
    "obs-fold (a header line continued on the next): refused",
    `${head("POST", "/sessions/whoami", "fold", ["X-Fold: a", " b", "Content-Length: 5"])}hello`,
    workerdForwards("workerd's HTTP server unfolds the line itself; the Worker forwards the one request it was given"),
  ),
  refused(
    "§2.2",
    "bare LF line endings: refused",
    `${head("POST", "/sessions/whoami", "lf", ["Content-Length: 5"]).replaceAll("\r\n", "\n")}hello`,
    workerdForwards("workerd's HTTP server accepts bare LF line endings; the Worker forwards the one request it was given"),
  ),
  refused(
    "§5.1",
    "white space between a field name and the colon: refused",
    `${head("POST", "/sessions/whoami", "colon", ["Content-Length : 5"])}hello`,
    workerdForwards(
      "workerd's HTTP server accepts the white space and reads the Content-Length; the Worker forwards the one request it was given",
    ),
  ),
  {
    section: "§6.2",
    name: "Content-Length with leading zeros: the length, restated",
    send: [`${head("PUT", "/sessions/whoami", "cl-zeros", ["Content-Length: 0005"])}hello`],
    methods: ["PUT"],
    upstream: [{ method: "PUT", target: "/sessions/whoami", body: "hello" }],
    statuses: [200],
  },
  // §6.3 Message body length: no framing, no body; what follows is the next request.
  {
    section: "§6.3",
    name: "a GET without framing followed by bytes: they are the next request, answered in order",
    send: [head("GET", "/sessions/whoami", "next-1") + head("GET", "/health/alive", "next-2")],
    methods: ["GET", "GET"],
    upstream: [
      { method: "GET", target: "/sessions/whoami" },
      { method: "GET", target: "/health/alive" },
    ],
    statuses: [200, 200],
    check: ownAnswers(["next-1", "next-2"]),
  },
  {
    section: "§6.3",
    name: "a POST without framing has no body: what follows is the next request",
    send: [head("POST", "/sessions/whoami", "post-none") + head("DELETE", "/sessions/x", "post-next")],
    methods: ["POST", "DELETE"],
    upstream: [
      { method: "POST", target: "/sessions/whoami" },
      { method: "DELETE", target: "/sessions/x" },
    ],
    statuses: [200, 200],
    check: ownAnswers(["post-none", "post-next"]),
  },
  // §9.3 Persistence and pipelining.
  {
    section: "§9.3.2",
    name: "three pipelined requests with bodies of each framing: three upstream requests, three answers in order",
    send: [
      head("GET", "/sessions/whoami", "pipe-1", ["Transfer-Encoding: chunked"]) +
        chunked(SMUGGLED) +
        head("POST", "/self-service/login/flows?id=1", "pipe-2", ["Content-Length: 5"]) +
        "hello" +
        head("DELETE", "/self-service/logout/api", "pipe-3", ["Content-Type: application/json", "Transfer-Encoding: chunked"]) +
        chunked('{"session_token":"t"}'),
    ],
    methods: ["GET", "POST", "DELETE"],
    upstream: [
      { method: "GET", target: "/sessions/whoami", body: SMUGGLED },
      { method: "POST", target: "/self-service/login/flows?id=1", body: "hello" },
      { method: "DELETE", target: "/self-service/logout/api", body: '{"session_token":"t"}' },
    ],
    statuses: [200, 200, 200],
    check: ownAnswers(["pipe-1", "pipe-2", "pipe-3"]),
    worker: {
      upstream: [
        { method: "GET", target: "/sessions/whoami" },
        { method: "POST", target: "/self-service/login/flows?id=1", body: "hello" },
        { method: "DELETE", target: "/self-service/logout/api", body: '{"session_token":"t"}' },
      ],
      why: "fetch() drops a GET body",
    },
  },
  {
    section: "§9.6",
    name: "Connection: close on a request: answered, then the connection is closed",
    send: [head("GET", "/sessions/whoami", "close", ["Connection: close"])],
    methods: ["GET"],
    upstream: [{ method: "GET", target: "/sessions/whoami" }],
    statuses: [200],
    closed: true,
    worker: { closed: false, why: "workerd's HTTP server (wrangler dev) keeps the connection open after Connection: close" },
  },
  {
    section: "§9.3",
    name: "HTTP/1.0 without keep-alive: answered, then closed",
    send: [head("GET", "/sessions/whoami", "http10", [], "HTTP/1.0")],
    methods: ["GET"],
    upstream: [{ method: "GET", target: "/sessions/whoami" }],
    statuses: [200],
    closed: true,
    worker: { closed: false, why: "workerd's HTTP server (wrangler dev) keeps an HTTP/1.0 connection open" },
  },
  {
    section: "§10.1.1",
    name: "Expect: 100-continue: the gateway answers 100 itself, and does not pass Expect on",
    send: [head("POST", "/sessions/whoami", "expect", ["Expect: 100-continue", "Content-Length: 5"]), "hello"],
    methods: ["POST"],
    upstream: [{ method: "POST", target: "/sessions/whoami", body: "hello" }],
    statuses: [200],
  },
  // Answers (§6.3 for responses): one well-framed message each.
  {
    section: "§6.3",
    name: "a chunked answer: chunked to the client, no Content-Length, the connection stays usable",
    send: [head("GET", "/sessions/whoami", "ans-chunked") + head("GET", "/sessions/whoami", "ans-chunked-2")],
    methods: ["GET", "GET"],
    upstream: [
      { method: "GET", target: "/sessions/whoami" },
      { method: "GET", target: "/sessions/whoami" },
    ],
    statuses: [200, 200],
    answer: (request) => ({
      status: 200,
      headers: [["X-Case", headerValues(request, "x-case")[0] ?? ""]],
      body: "a chunked answer",
      framing: "chunked",
    }),
    check: (result) => {
      for (const response of result.responses) {
        expect(response.body.toString()).toBe("a chunked answer");
        expect(headerValues(response, "content-length")).toEqual([]);
      }
    },
  },
  {
    section: "§6.3",
    name: "an answer delimited by the close of Kratos's connection: framed for the client, whose connection stays open",
    send: [head("GET", "/sessions/whoami", "ans-close") + head("GET", "/health/alive", "ans-close-2")],
    methods: ["GET", "GET"],
    upstream: [
      { method: "GET", target: "/sessions/whoami" },
      { method: "GET", target: "/health/alive" },
    ],
    statuses: [200, 200],
    answer: () => ({ status: 200, body: "until the close", framing: "close" }),
    check: (result) => {
      for (const response of result.responses) {
        expect(response.body.toString()).toBe("until the close");
        expect(response.framing).not.toBe("close");
      }
    },
  },
  {
    section: "§6.3",
    name: "Content-Length is kept when the body passes unchanged",
    send: [head("GET", "/sessions/whoami", "ans-length")],
    methods: ["GET"],
    upstream: [{ method: "GET", target: "/sessions/whoami" }],
    statuses: [200],
    answer: () => ({ status: 200, body: "x".repeat(100_000) }),
    check: (result) => {
      expect(headerValues(result.responses[0] ?? { startLine: "", headers: [] }, "content-length")).toEqual(["100000"]);
      expect(result.responses[0]?.body.length).toBe(100_000);
    },
  },
  {
    section: "§6.3",
    name: "HEAD: the answer has no body, whatever its Content-Length, and the next answer parses",
    send: [head("HEAD", "/sessions/whoami", "head-1") + head("GET", "/sessions/whoami", "head-2")],
    methods: ["HEAD", "GET"],
    upstream: [
      { method: "HEAD", target: "/sessions/whoami" },
      { method: "GET", target: "/sessions/whoami" },
    ],
    statuses: [200, 200],
    answer: (request) =>
      request.method === "HEAD"
        ? { status: 200, headers: [["Content-Length", "1234"]], framing: "close" as const }
        : { status: 200, body: "after" },
    check: (result) => expect(result.responses[1]?.body.toString()).toBe("after"),
  },
  {
    section: "§6.3",
    name: "204 and 304 carry no body",
    send: [
      head("GET", "/sessions/whoami", "ans-204") + head("GET", "/sessions/whoami", "ans-304") + head("GET", "/health/alive", "ans-after"),
    ],
    methods: ["GET", "GET", "GET"],
    upstream: [
      { method: "GET", target: "/sessions/whoami" },
      { method: "GET", target: "/sessions/whoami" },
      { method: "GET", target: "/health/alive" },
    ],
    statuses: [204, 304, 200],
    answer: (request) => {
      const id = headerValues(request, "x-case")[0];
      return id === "ans-204" ? { status: 204 } : id === "ans-304" ? { status: 304 } : { status: 200, body: "after" };
    },
    check: (result) => {
      expect(result.responses[2]?.body.toString()).toBe("after");
      for (const response of result.responses.slice(0, 2)) expect(response.body.length).toBe(0);
    },
  },
];

/** Runs one case against a gateway on `port` in front of `recorder`, and checks both sides. */
export async function checkConformance(port: number, recorder: Recorder, c: ConformanceCase, runtime: "node" | "worker"): Promise<void> {
  recorder.reset();
  if (c.answer !== undefined) recorder.answer = c.answer;
  const worker = runtime === "worker" ? c.worker : undefined;
  const expected = {
    upstream: worker?.upstream ?? c.upstream,
    statuses: worker?.statuses ?? c.statuses,
    closed: worker?.closed ?? c.closed,
  };
  const result = await exchange(port, c.send, worker?.methods ?? c.methods, { settleMs: 150 });
  // Whatever reached the upstream reached it by now (the answers came from it).
  await new Promise((resolve) => setTimeout(resolve, 50));
  const parsed = recorder.requests();
  expect(
    parsed.map((r) => ({ method: r.method, target: r.target, ...(r.body.length > 0 && { body: r.body.toString("latin1") }) })),
    "what the upstream parsed",
  ).toEqual(expected.upstream.map((f) => ({ method: f.method, target: f.target, ...(f.body !== undefined && { body: f.body }) })));
  for (const request of parsed) {
    expect(request.violations, `${request.method} ${request.target}: framed as one message`).toEqual([]);
    expect(headerValues(request, "kratos-hooks-gateway"), "the gateway's marker").toEqual(["1"]);
    expect(headerValues(request, "expect"), "Expect is answered by the gateway").toEqual([]);
  }
  for (const connection of recorder.connections) expect(connection.leftover.length, "bytes the upstream could not frame").toBe(0);
  expect(
    result.responses.map((r) => r.status),
    "the client's answers",
  ).toEqual(expected.statuses);
  for (const response of result.responses) {
    expect(response.violations, "each answer well framed").toEqual([]);
    // The gateway's own refusals are Kratos errors too.
    if (response.status >= 400 && !worker?.runtimeAnswers) {
      expect(JSON.parse(response.body.toString()).error.code, "Kratos's error shape").toBe(response.status);
    }
  }
  expect(result.leftover.length, "bytes after the last answer").toBe(0);
  if (expected.closed) expect(result.closed, "the connection is closed").toBe(true);
  else expect(result.closed, "the connection stays open").toBe(false);
  if (worker === undefined || worker.statuses === undefined) c.check?.(result);
}
