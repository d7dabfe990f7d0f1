import { afterEach, describe, expect, it } from "vitest";
import { CourierSink } from "../../src/cli/courier-sink.js";

// The sink dev and the e2e suite point Kratos's courier at, on a real port.
describe("courier sink", () => {
  let sink: CourierSink | undefined;
  afterEach(async () => {
    await sink?.close();
    sink = undefined;
  });

  const post = (path: string, body: string) =>
    fetch(`${sink?.url}${path}`, { method: "POST", body, headers: { "content-type": "application/json" } });

  it("records an SMS, and a ctx a capture hook posts", async () => {
    sink = await CourierSink.start();
    expect((await post("/sms", JSON.stringify({ to: "+4917612345678", template_type: "login_code_valid", body: "123456" }))).status).toBe(
      200,
    );
    expect((await post("/ctx/registration-after", JSON.stringify({ flow: { id: "f" } }))).status).toBe(204);
    expect(sink.messages).toMatchObject([{ channel: "sms", to: "+4917612345678", template_type: "login_code_valid" }]);
    expect(sink.lastCtx("registration-after")).toEqual({ flow: { id: "f" } });
  });

  it.each([
    ["/sms", "not json"],
    ["/email", '"a string"'],
    ["/ctx/login-after", "{"],
    ["/ctx/login-after", "null"],
    ["/ctx/login-after", "[1]"],
  ])("answers %s with %s 400, records nothing, and keeps serving", async (path, body) => {
    sink = await CourierSink.start();
    expect((await post(path, body)).status).toBe(400);
    expect(sink.messages).toEqual([]);
    expect(sink.ctxs).toEqual([]);
    expect((await post("/ctx/login-after", "{}")).status).toBe(204);
  });
});
