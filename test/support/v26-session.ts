import type { SessionView } from "../../src/index.js";

/**
 * What a policy receives as `input.session` from kratos/examples/settings-after.profile-v26-session.json
 * (Kratos v26.2's settings ctx): times as Dates, the methods reduced. On Node and in workerd alike.
 */
export const V26_EXAMPLE_SESSION: SessionView = {
  id: "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
  authenticatorAssuranceLevel: "aal2",
  authenticatedAt: new Date("2026-07-29T09:41:05.123Z"),
  authenticationMethods: [
    { method: "password", aal: "aal1", completedAt: new Date("2026-07-29T09:40:31.004Z") },
    { method: "totp", aal: "aal2", completedAt: new Date("2026-07-29T09:41:05.123Z") },
  ],
};
