import { describe, expect, it } from "vitest";
import { parseTraceparent } from "../../src/core/trace.js";

describe("parseTraceparent (W3C Trace Context)", () => {
  it.each<[string | null | undefined, object | undefined]>([
    [
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" },
    ],
    [
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
      { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" },
    ],
    [
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
      { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" },
    ],
    [
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later",
      { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" },
    ],
    ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", undefined],
    ["ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", undefined],
    ["00-00000000000000000000000000000000-00f067aa0ba902b7-01", undefined],
    ["00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", undefined],
    ["00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", undefined],
    ["00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", undefined],
    ["garbage", undefined],
    [null, undefined],
    [undefined, undefined],
  ])("%j", (header, expected) => {
    expect(parseTraceparent(header)).toEqual(expected);
  });
});
