import { describe, expect, it } from "vitest";
import { isKratosMessageId, isOurMessageId, KRATOS_MESSAGE_ID_BLOCKS, OUR_MESSAGE_ID_BLOCK } from "../../src/core/message-ids.js";

describe("message id blocks (Kratos text/id.go)", () => {
  it("our block overlaps none of Kratos's", () => {
    for (const block of KRATOS_MESSAGE_ID_BLOCKS) {
      expect(OUR_MESSAGE_ID_BLOCK.last < block.first || OUR_MESSAGE_ID_BLOCK.first > block.last, JSON.stringify(block)).toBe(true);
    }
  });

  it.each([
    [1_010_000, true, false], // InfoSelfServiceLoginRoot
    [1_070_002, true, false], // a form label
    [1_089_999, true, false],
    [1_090_000, false, false],
    [4_000_001, true, false], // ErrorValidationGeneric
    [4_079_999, true, false],
    [4_099_999, false, false],
    [4_100_000, false, true],
    [4_100_001, false, true],
    [4_199_999, false, true],
    [4_200_000, false, false],
    [4_100_001.5, false, false],
    [5_000_001, true, false],
    [5_010_000, false, false],
  ])("%d: Kratos's %s, ours %s", (id, kratos, ours) => {
    expect(isKratosMessageId(id)).toBe(kratos);
    expect(isOurMessageId(id)).toBe(ours);
  });
});
