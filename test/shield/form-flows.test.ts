import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { isShieldFormFlow, SHIELD_FORM_FLOWS } from "../../src/core/shield-flows.js";
import { FLOWS_FETCH } from "../../src/gateway/shield/flow-note.js";
import { SELF_SERVICE_FLOWS } from "../../src/kratos/self-service.js";

// The flows whose form posts the shield may refuse are written once (core/shield-flows.ts); the
// config's `uiUrls` and the gateway's flow fetches follow them.
describe("shield: the form flows, one list", () => {
  it("are Kratos's self-service flows but verification", () => {
    expect(SHIELD_FORM_FLOWS.every((flow) => (SELF_SERVICE_FLOWS as readonly string[]).includes(flow))).toBe(true);
    expect(SELF_SERVICE_FLOWS.filter(isShieldFormFlow)).toEqual(["registration", "login", "settings", "recovery"]);
  });

  it("are gateway.shield.uiUrls's keys, in order, each null by default", () => {
    expect(configSchema.parse({}).gateway.shield.uiUrls).toEqual({ login: null, registration: null, settings: null, recovery: null });
    expect(Object.keys(configSchema.parse({}).gateway.shield.uiUrls)).toEqual([...SHIELD_FORM_FLOWS]);
  });

  it.each(SHIELD_FORM_FLOWS)("a UI's fetch of a %s flow is one the shield adds its message to", (flow) => {
    expect(FLOWS_FETCH.exec(`/self-service/${flow}/flows`)?.[1]).toBe(flow);
  });

  it.each([
    "/self-service/verification/flows",
    "/self-service/login/flows/",
    "/self-service/login",
    "/x/self-service/login/flows",
    "/self-service/login|settings/flows",
  ])("%s is no such fetch", (path) => {
    expect(FLOWS_FETCH.test(path)).toBe(false);
  });
});
