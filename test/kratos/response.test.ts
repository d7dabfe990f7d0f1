import { describe, expect, it } from "vitest";
import type { BuiltInDenial, Denial, IdentityView } from "../../src/core/decision.js";
import { PolicyBugError } from "../../src/core/decision-check.js";
import { HOOK_IDS, HOOKS } from "../../src/core/hooks.js";
import { MESSAGES } from "../../src/core/messages.js";
import type { PipelineResult } from "../../src/core/pipeline.js";
import { toKratosResponse } from "../../src/kratos/response.js";

const closed = { failMode: "closed" } as const;
const identity: IdentityView = { schemaId: "phone", traits: { phone: "+4917612345678" }, metadataPublic: { plan: "free" } };
const denial = (key: BuiltInDenial["key"], pointer: string): Denial => ({ key, pointer, context: { reason: "r" } });
const json = (body: string | null) => (body === null ? null : JSON.parse(body));

describe("toKratosResponse", () => {
  it("continue is 204 with an empty body", () => {
    expect(toKratosResponse("registration-after", { kind: "continue" }, closed)).toEqual({
      status: 204,
      body: null,
      messages: [],
      changes: [],
    });
  });

  it("a patch is 200 with only the changed top-level fields, each whole, under Kratos's keys", () => {
    const result: PipelineResult = { kind: "patch", identity, changed: ["schemaId", "metadataPublic"], by: ["x"] };
    const answer = toKratosResponse("registration-after", result, closed);
    expect(answer.status).toBe(200);
    expect(json(answer.body)).toEqual({ identity: { schema_id: "phone", metadata_public: { plan: "free" } } });
    expect(answer.changes).toEqual(["schema_id", "metadata_public"]);
    const traits = toKratosResponse("settings-after", { kind: "patch", identity, changed: ["traits"], by: ["x"] }, closed);
    expect(json(traits.body)).toEqual({ identity: { traits: { phone: "+4917612345678" } } });
  });

  it("a changed external id is sent as external_id, and its removal as null (Kratos v25.4+ applies a present key)", () => {
    const linked = toKratosResponse(
      "settings-after",
      { kind: "patch", identity: { ...identity, externalId: "crm-9" }, changed: ["externalId"], by: ["x"] },
      closed,
    );
    expect([json(linked.body), linked.changes]).toEqual([{ identity: { external_id: "crm-9" } }, ["external_id"]]);
    for (const removed of [{ ...identity, externalId: null }, identity]) {
      const answer = toKratosResponse(
        "registration-after",
        { kind: "patch", identity: removed, changed: ["externalId"], by: ["x"] },
        closed,
      );
      expect(json(answer.body)).toEqual({ identity: { external_id: null } });
    }
  });

  it("a patch with no changed field is a 204, never an empty identity", () => {
    expect(toKratosResponse("registration-after", { kind: "patch", identity, changed: [], by: ["x"] }, closed).status).toBe(204);
  });

  it("a patch on a hook whose answer Kratos does not persist is a bug: it throws", () => {
    for (const hook of HOOK_IDS.filter((id) => !HOOKS[id].persistsPatch)) {
      expect(() => toKratosResponse(hook, { kind: "patch", identity, changed: ["traits"], by: ["x"] }, closed)).toThrow(hook);
    }
  });

  it("a deny is 422 with one instance_ptr group per pointer, in first-seen order, each message with id, text, type and context", () => {
    const result: PipelineResult = {
      kind: "deny",
      by: "x",
      messages: [
        denial("PHONE_INVALID", "#/traits/phone"),
        denial("EMAIL_DOMAIN_DENIED", "#/traits/email"),
        denial("PHONE_TYPE_NOT_ALLOWED", "#/traits/phone"),
      ],
    };
    const answer = toKratosResponse("registration-after", result, closed);
    expect(answer.status).toBe(422);
    expect(answer.messages).toEqual(["PHONE_INVALID", "EMAIL_DOMAIN_DENIED", "PHONE_TYPE_NOT_ALLOWED"]);
    const message = (key: BuiltInDenial["key"]) => ({
      id: MESSAGES[key].id,
      text: MESSAGES[key].text,
      type: "error",
      context: { reason: "r" },
    });
    expect(json(answer.body)).toEqual({
      messages: [
        { instance_ptr: "#/traits/phone", messages: [message("PHONE_INVALID"), message("PHONE_TYPE_NOT_ALLOWED")] },
        { instance_ptr: "#/traits/email", messages: [message("EMAIL_DOMAIN_DENIED")] },
      ],
    });
  });

  it("a pointer that does not start with #/ is answered globally (Kratos would add a junk input node for it)", () => {
    for (const pointer of ["traits.phone", "/traits/phone", "", "#traits"]) {
      const answer = toKratosResponse(
        "registration-after",
        { kind: "deny", by: "x", messages: [denial("PHONE_INVALID", pointer)] },
        closed,
      );
      expect(json(answer.body).messages.map((m: { instance_ptr: string }) => m.instance_ptr)).toEqual(["#/"]);
    }
  });

  it("a timeout follows failMode: closed is a global 422 HOOK_TIMEOUT, open is a 204", () => {
    const timeout: PipelineResult = { kind: "timeout", by: "x", settled: { kind: "continue" }, failMode: undefined };
    const refused = toKratosResponse("login-after", timeout, { failMode: "closed" });
    expect(refused.status).toBe(422);
    expect(json(refused.body)).toEqual({
      messages: [
        {
          instance_ptr: "#/",
          messages: [{ id: MESSAGES.HOOK_TIMEOUT.id, text: MESSAGES.HOOK_TIMEOUT.text, type: "error", context: { reason: "timeout" } }],
        },
      ],
    });
    expect(refused.messages).toEqual(["HOOK_TIMEOUT"]);
    expect(toKratosResponse("login-after", timeout, { failMode: "open" })).toEqual({ status: 204, body: null, messages: [], changes: [] });
  });

  it("open answers what was settled before a timeout or a failure; a built-in policy's failure is always closed", () => {
    const identity = { schemaId: "phone", traits: { phone: "+4917612345678" }, metadataPublic: null };
    const settled = { kind: "patch", identity, changed: ["schemaId", "traits"], by: ["normalizePhone", "routeSchema"] } as const;
    const error = new PolicyBugError("policy invites on registration-after threw: ECONNREFUSED");
    const saved = { identity: { schema_id: "phone", traits: { phone: "+4917612345678" } } };
    for (const result of [
      { kind: "timeout", by: "invites", settled, failMode: undefined },
      { kind: "failed", by: "invites", builtIn: false, error, settled, failMode: undefined },
    ] as const) {
      const open = toKratosResponse("registration-after", result, { failMode: "open" });
      expect(open.status, result.kind).toBe(200);
      expect(json(open.body)).toEqual(saved);
      expect(toKratosResponse("registration-after", result, { failMode: "closed" }).status).toBe(422);
    }
    const failed = { kind: "failed", by: "invites", builtIn: false, error, settled, failMode: undefined } as const;
    const closed = toKratosResponse("registration-after", failed, { failMode: "closed" });
    expect(json(closed.body)).toEqual({
      messages: [
        {
          instance_ptr: "#/",
          messages: [{ id: MESSAGES.HOOK_FAILED.id, text: MESSAGES.HOOK_FAILED.text, type: "error", context: { reason: "error" } }],
        },
      ],
    });
    expect(toKratosResponse("registration-after", { ...failed, settled: { kind: "continue" } }, { failMode: "open" }).status).toBe(204);
    // The failing policy's own mode (the pipeline's: "closed" for a built-in or a broken refusal) comes first.
    const ours = toKratosResponse("registration-after", { ...failed, builtIn: true, failMode: "closed" }, { failMode: "open" });
    expect(ours.status).toBe(422);
    expect(ours.messages).toEqual(["HOOK_FAILED"]);
    expect(toKratosResponse("registration-after", { ...failed, failMode: "open" }, { failMode: "closed" }).status).toBe(200);
    const waited = { kind: "timeout", by: "invites", settled, failMode: "closed" } as const;
    expect(toKratosResponse("registration-after", waited, { failMode: "open" }).messages).toEqual(["HOOK_TIMEOUT"]);
  });
});
