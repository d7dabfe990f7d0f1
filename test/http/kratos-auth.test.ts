// The server's side of the key rule, on the cases the doctor judges too (test/cli/doctor.test.ts,
// "judges a web_hook's auth as the server does"): what one accepts, the other does not flag.
import { describe, expect, it } from "vitest";
import { createTestApp, loadFixture, TEST_KEY } from "../support/helpers.js";
import { KRATOS_AUTH_CASES } from "../support/kratos-auth-cases.js";

describe("the Authorization header Kratos sends for each web_hook auth", () => {
  const app = createTestApp({ keys: [TEST_KEY] });
  const body = loadFixture("registration-after.password-phone-national");

  it.each(KRATOS_AUTH_CASES)("$name: accepted $accepted", async ({ authorization, accepted }) => {
    const res = await app.call("registration-after", body, { headers: { authorization } });
    expect(res.status).toBe(accepted ? 200 : 401);
  });
});
