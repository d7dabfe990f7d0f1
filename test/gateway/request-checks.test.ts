import { type Context, Hono } from "hono";
import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/core/body.js";
import { GATEWAY_MARKER } from "../../src/gateway/headers.js";
import { kratosError, kratosRefusal } from "../../src/gateway/kratos-error.js";
import { bodyLimit, loopCheck, requestRefusal } from "../../src/gateway/request-checks.js";

/** Runs `check` on a Hono context for `request` and returns what it gave. */
async function inContext<T>(request: Request, check: (c: Context) => T | Promise<T>): Promise<T> {
  let result: { value: T } | undefined;
  const app = new Hono();
  app.all("*", async (c) => {
    result = { value: await check(c) };
    return c.body(null, 204);
  });
  await app.request(request);
  if (result === undefined) throw new Error("the check did not run");
  return result.value;
}

async function same(actual: Response, expected: Response): Promise<void> {
  expect(actual.status).toBe(expected.status);
  expect([...actual.headers]).toEqual([...expected.headers]);
  expect(await actual.text()).toBe(await expected.text());
}

describe("requestRefusal", () => {
  it("lets a plain request through", async () => {
    expect(await inContext(new Request("https://auth.test/self-service/login?flow=1"), requestRefusal())).toBeUndefined();
  });

  it("refuses a path Kratos could route otherwise with Kratos's 400, the reason for the log", async () => {
    const stopped = await inContext(new Request("https://auth.test//self-service/login"), requestRefusal());
    expect(stopped?.why).toEqual({ refusal: "path_empty_segment" });
    await same(stopped?.response ?? new Response(), kratosRefusal("path_empty_segment"));
  });

  it("asks the transport about the framing first, and onError answers", async () => {
    const check = requestRefusal({
      framingRefusal: () => "host_repeated",
      onError: (_c, refusal) => new Response(refusal, { status: 400 }),
    });
    const stopped = await inContext(new Request("https://auth.test//self-service/login"), check);
    expect(stopped?.why).toEqual({ refusal: "host_repeated" });
    expect(await stopped?.response.text()).toBe("host_repeated");
  });
});

describe("loopCheck", () => {
  it("answers a request with the gateway's marker with Kratos's 508", async () => {
    const stopped = await inContext(new Request("https://auth.test/"), (c) => loopCheck()(c, { [GATEWAY_MARKER]: "1" }));
    expect(stopped?.why).toEqual({ error: "loop" });
    await same(
      stopped?.response ?? new Response(),
      kratosError(508, "This request has already passed through the kratos-hooks gateway: GATEWAY_KRATOS_URL points back at it."),
    );
  });

  it("lets any other through; onError answers in its place", async () => {
    const check = loopCheck({ onError: () => new Response("again", { status: 508 }) });
    expect(await inContext(new Request("https://auth.test/"), (c) => check(c, {}))).toBeUndefined();
    const stopped = await inContext(new Request("https://auth.test/"), (c) => check(c, { [GATEWAY_MARKER]: "1" }));
    expect(await stopped?.response.text()).toBe("again");
  });
});

describe("bodyLimit", () => {
  const post = (bytes: number) => new Request("https://auth.test/self-service/login", { method: "POST", body: "x".repeat(bytes) });

  it("reads a body up to the limit whole", async () => {
    const read = await inContext(post(10), bodyLimit({ maxSize: 10 }));
    expect("bytes" in read && new TextDecoder().decode(read.bytes)).toBe("x".repeat(10));
  });

  it("answers a longer one with Kratos's 413 naming the limit (MAX_BODY_BYTES by default)", async () => {
    const over = await inContext(post(MAX_BODY_BYTES + 1), bodyLimit());
    expect("why" in over && over.why).toEqual({ error: "payload_too_large" });
    if (!("response" in over)) throw new Error("expected an answer");
    await same(over.response, kratosError(413, `The request body exceeds ${MAX_BODY_BYTES} bytes.`));
  });

  it("onError answers in its place", async () => {
    const over = await inContext(post(11), bodyLimit({ maxSize: 10, onError: (c) => c.text("too big", 413) }));
    if (!("response" in over)) throw new Error("expected an answer");
    expect(await over.response.text()).toBe("too big");
  });
});
