import { describe, expect, it } from "vitest";
import type { Decision, Denial } from "../../src/core/decision.js";
import {
  answerProblem,
  claimsDenial,
  IDENTITY_FIELDS,
  identityFieldValue,
  isBuiltInDenial,
  messageOf,
} from "../../src/core/decision-check.js";
import { MESSAGES } from "../../src/core/messages.js";

const ours: Denial = { key: "PHONE_INVALID", pointer: "#/traits/phone", context: {} };
const yours: Denial = { key: "INVITE_REQUIRED", id: 4190001, text: "Sign-up is by invitation only.", pointer: "#/", context: {} };

describe("the rules of a decision, each in one place", () => {
  it("tells our messages (by key) from yours (with an id), and reads what each shows", () => {
    expect(isBuiltInDenial(ours)).toBe(true);
    expect(isBuiltInDenial(yours)).toBe(false);
    expect(messageOf(ours)).toMatchObject({ id: MESSAGES.PHONE_INVALID.id, text: MESSAGES.PHONE_INVALID.text });
    expect(messageOf(yours)).toMatchObject({ id: 4190001, text: "Sign-up is by invitation only." });
  });

  it("lists the fields a patch may change in answer order, an absent external id as null", () => {
    expect(IDENTITY_FIELDS).toEqual(["schemaId", "traits", "metadataPublic", "externalId"]);
    const identity = { schemaId: "default", traits: {}, metadataPublic: null };
    expect(identityFieldValue(identity, "externalId")).toBeNull();
    expect(identityFieldValue({ ...identity, externalId: "crm-1" }, "externalId")).toBe("crm-1");
    expect(identityFieldValue(identity, "schemaId")).toBe("default");
  });

  it("refuses a decision that cannot be written as JSON, after the shape checks", () => {
    const bigint = { kind: "patch", identity: { metadataPublic: { n: 1n } } } as unknown as Decision;
    expect(answerProblem(bigint, "registration-after")).toMatch(/^the decision cannot be written as JSON/);
    expect(answerProblem({ kind: "deny", messages: [] }, "registration-after")).toBe("denied without a message");
    expect(answerProblem({ kind: "continue" }, "registration-after")).toBeNull();
  });

  it("takes anything of kind deny for a refusal, however broken", () => {
    expect(claimsDenial({ kind: "deny", messages: "nope" })).toBe(true);
    expect(claimsDenial({ kind: "continue" })).toBe(false);
    expect(claimsDenial(null)).toBe(false);
    expect(claimsDenial("deny")).toBe(false);
  });
});
