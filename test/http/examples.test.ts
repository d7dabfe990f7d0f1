import { describe, expect, it } from "vitest";
import { EXAMPLES, exampleNames, httpAnswerOf } from "../support/examples.js";
import { bodyOf, createTestApp, loadFixture } from "../support/helpers.js";

// What the default configuration (a fresh `npm start`) answers for each shipped example: the
// answer test/support/examples.ts derives from the example's outcome.
describe("the shipped examples under the default configuration", () => {
  it("every example file has a row in test/support/examples.ts and every row a file, and there are at least 15", () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(exampleNames());
    expect(exampleNames().length).toBeGreaterThanOrEqual(15);
  });

  it.each(exampleNames())("%s", async (name) => {
    const hook = name.split(".")[0] ?? "";
    const want = httpAnswerOf(name);
    const res = await createTestApp().call(hook, loadFixture(name));
    expect(res.status).toBe(want.status);
    if (want.status === 204) expect(await res.text()).toBe("");
    if (want.status === 200) expect(await bodyOf(res)).toEqual({ identity: want.identity });
    if (want.status === 422) {
      const body: { messages: { instance_ptr: string; messages: { id: number }[] }[] } = await bodyOf(res);
      expect(body.messages.flatMap((m) => m.messages.map((x) => [m.instance_ptr, x.id]))).toEqual(want.messages);
    }
  });
});
