// The shipped service plus two rules of our own: `npm start` with INVITES_URL set.
import { builtInPolicies } from "kratos-hooks";
import { serve } from "kratos-hooks/node";
import { inviteOnly } from "./invites.js";
import { loginLimit } from "./login-limit.js";

const invites = process.env.INVITES_URL;
if (invites === undefined || !URL.canParse(invites)) {
  process.stderr.write("INVITES_URL: expected the invite service's URL, e.g. http://127.0.0.1:7000/\n");
  process.exit(78);
}
const max = Number(process.env.LOGIN_LIMIT ?? 10);

await serve({
  policies: (config) => [...builtInPolicies(config), inviteOnly(new URL(invites.endsWith("/") ? invites : `${invites}/`))],
  gatewayRules: [loginLimit({ max, windowMs: 60_000 })],
  // This process is the service: drain and exit on SIGTERM and SIGINT, as `npm start` does.
  handleSignals: true,
});
