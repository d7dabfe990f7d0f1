// One table of web_hook `auth` configs, read by both sides of the key rule: the server
// (test/http/kratos-auth.test.ts sends `authorization` to the app) and the doctor
// (test/cli/doctor.test.ts writes `auth` into a kratos.yml). Both must agree on `accepted`.
import { TEST_KEY } from "./helpers.js";

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;

export interface KratosAuthCase {
  name: string;
  /** The web_hook's `auth` in kratos.yml. */
  auth: Record<string, unknown>;
  /** The Authorization header Kratos sends for it (`request/auth.go`). */
  authorization: string;
  /** Whether the service (keys: TEST_KEY) accepts it. */
  accepted: boolean;
  /** The doctor's finding when refused: a key it does not know (the default), or no key it can read. */
  finding?: "auth-key-unknown" | "auth-mismatch";
}

const apiKey = (value: string) => ({ type: "api_key", config: { name: "Authorization", value, in: "header" } });
const basicAuth = (user: string, password: string) => ({ type: "basic_auth", config: { user, password } });

export const KRATOS_AUTH_CASES: readonly KratosAuthCase[] = [
  { name: "Bearer <key>", auth: apiKey(`Bearer ${TEST_KEY}`), authorization: `Bearer ${TEST_KEY}`, accepted: true },
  { name: "lower-case bearer <key>", auth: apiKey(`bearer ${TEST_KEY}`), authorization: `bearer ${TEST_KEY}`, accepted: true },
  { name: "BEARER <key>", auth: apiKey(`BEARER ${TEST_KEY}`), authorization: `BEARER ${TEST_KEY}`, accepted: true },
  { name: "Bearer, two spaces, <key>", auth: apiKey(`Bearer  ${TEST_KEY}`), authorization: `Bearer  ${TEST_KEY}`, accepted: true },
  { name: "Bearer, a tab, <key>", auth: apiKey(`Bearer\t${TEST_KEY}`), authorization: `Bearer\t${TEST_KEY}`, accepted: true },
  // Go's http.Header.Write trims a value, so Kratos sends it without the trailing space.
  { name: "Bearer <key> and a trailing space", auth: apiKey(`Bearer ${TEST_KEY} `), authorization: `Bearer ${TEST_KEY}`, accepted: true },
  {
    name: "Bearer <key> <more>",
    auth: apiKey(`Bearer ${TEST_KEY} extra`),
    authorization: `Bearer ${TEST_KEY} extra`,
    accepted: false,
    finding: "auth-mismatch",
  },
  { name: "the key without a scheme", auth: apiKey(TEST_KEY), authorization: TEST_KEY, accepted: false, finding: "auth-mismatch" },
  {
    name: "basic_auth, the key as password",
    auth: basicAuth("kratos", TEST_KEY),
    authorization: basic("kratos", TEST_KEY),
    accepted: true,
  },
  {
    name: "api_key with a Basic value",
    auth: apiKey(basic("kratos", TEST_KEY)),
    authorization: basic("kratos", TEST_KEY),
    accepted: true,
  },
  {
    name: "bearer <a wrong key>",
    auth: apiKey("bearer wrong-key-0123456789abcdef"),
    authorization: "bearer wrong-key-0123456789abcdef",
    accepted: false,
  },
  {
    name: "basic_auth, a wrong password",
    auth: basicAuth("kratos", "wrong-key-0123456789abcdef"),
    authorization: basic("kratos", "wrong-key-0123456789abcdef"),
    accepted: false,
  },
];
