// The hooks' body limit (src/core/body.ts MAX_BODY_BYTES) on a real socket. A Request built from
// a string in a unit test carries no Content-Length, so only a real server shows how a declared
// length is judged: over the limit it is refused from the headers alone, without waiting for
// the body; exactly the limit is read; and a chunked body is cut off as it passes the limit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/core/body.js";
import { type RunningService, serve } from "../../src/node.js";
import { loadFixture, TEST_KEY } from "../support/helpers.js";
import { freePort } from "../support/ports.js";
import { exchange, type ParsedResponse } from "../support/raw-http.js";

let service: RunningService;
beforeAll(async () => {
  service = await serve({ env: { HOST: "127.0.0.1", PORT: String(await freePort()), HOOKS_API_KEYS: TEST_KEY, LOG_LEVEL: "silent" } });
});
afterAll(async () => {
  await service.close();
});

function head(framing: string): string {
  return [
    "POST /hooks/registration-after HTTP/1.1",
    `Host: 127.0.0.1:${service.hooksPort}`,
    `Authorization: Bearer ${TEST_KEY}`,
    "Content-Type: application/json",
    framing,
    "",
    "",
  ].join("\r\n");
}

/** A valid hook body padded with spaces to exactly `size` bytes. */
function bodyOf(size: number): Buffer {
  const json = JSON.stringify(loadFixture("registration-after.password-phone-national"));
  return Buffer.from(json.padEnd(size, " "));
}

function expectTooLarge(answer: ParsedResponse | undefined): void {
  expect(answer?.status).toBe(413);
  expect(JSON.parse(answer?.body.toString("utf8") ?? "null")).toEqual({
    error: { code: "payload_too_large", message: `request body exceeds ${MAX_BODY_BYTES} bytes`, path: null },
  });
}

describe("the hooks' body limit on a real socket", () => {
  it("a declared Content-Length one byte over the limit is 413 from the headers alone: the body is never awaited", async () => {
    const started = Date.now();
    const { responses } = await exchange(service.hooksPort, [head(`Content-Length: ${MAX_BODY_BYTES + 1}`)], ["POST"], {
      timeoutMs: 3_000,
    });
    expectTooLarge(responses[0]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("a declared Content-Length one byte over the limit is 413 with the body sent too", async () => {
    const { responses } = await exchange(
      service.hooksPort,
      [head(`Content-Length: ${MAX_BODY_BYTES + 1}`), bodyOf(MAX_BODY_BYTES + 1)],
      ["POST"],
    );
    expectTooLarge(responses[0]);
  });

  it("a body of exactly the limit is read and answered", async () => {
    const { responses } = await exchange(service.hooksPort, [head(`Content-Length: ${MAX_BODY_BYTES}`), bodyOf(MAX_BODY_BYTES)], ["POST"]);
    expect(responses[0]?.status).toBe(200);
    expect(JSON.parse(responses[0]?.body.toString("utf8") ?? "null")).toEqual({
      identity: { schema_id: "phone", traits: { phone: "+4917612345678" } },
    });
  });

  it("a chunked body of exactly the limit is read; one byte more is 413", async () => {
    const chunked = (body: Buffer) => [
      head("Transfer-Encoding: chunked"),
      Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from("\r\n0\r\n\r\n")]),
    ];
    const atLimit = await exchange(service.hooksPort, chunked(bodyOf(MAX_BODY_BYTES)), ["POST"]);
    expect(atLimit.responses[0]?.status).toBe(200);
    const over = await exchange(service.hooksPort, chunked(bodyOf(MAX_BODY_BYTES + 1)), ["POST"]);
    expectTooLarge(over.responses[0]);
  });
});
