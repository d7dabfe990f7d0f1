// `npm start`: the shipped service, a user of the public Node entry like any other
// (test/architecture/imports.test.ts holds it to the public entries). It owns the process: a
// configuration error exits 78 (sysexits EX_CONFIG, so supervisors can tell it from a crash), a
// port it cannot listen on exits 1, and SIGTERM or SIGINT drains and exits.
import { ConfigError } from "../index.js";
import { ListenError, serve } from "../node.js";

const EX_CONFIG = 78;

try {
  await serve({ handleSignals: true });
} catch (error) {
  if (!(error instanceof ConfigError) && !(error instanceof ListenError)) throw error;
  process.stderr.write(`kratos-hooks: ${error.message}\n`);
  process.exit(error instanceof ConfigError ? EX_CONFIG : 1);
}
