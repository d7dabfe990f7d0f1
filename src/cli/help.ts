import { HOOK_IDS } from "../core/hooks.js";
import { DEFAULT_DEV_URLS, DEV_HOST, DEV_PORTS, SHIPPED_ADDRESSES } from "./dev-stack.js";
import { TESTED_KRATOS_VERSIONS } from "./kratos-binary.js";
import { DEFAULT_KRATOS_VERSION } from "./kratos-version.js";
import { DEFAULT_HOOKS_URL } from "./shield.js";
import { EXIT_CODES_HELP } from "./usage.js";

// What `kratos-hooks --help` and each command's --help print; the defaults they name come from
// where they are decided (dev's ports from dev-stack.ts, the tested releases from kratos-binary.ts).

const VERSION_HELP = `  --kratos-version <v> the Kratos release to judge for, e.g. ${TESTED_KRATOS_VERSIONS.join(" or ")}
                       (tested: ${TESTED_KRATOS_VERSIONS.join(", ")}; others are judged as the
                       tested release of the same feature set, with a note)
  --admin-url <url>    ask this Kratos admin API for its release (GET /admin/version) instead
                       (default without either: ${DEFAULT_KRATOS_VERSION}, said in the output)`;

/** Each command's --help, and the main one (`kratos-hooks --help`). */
export const HELP = {
  main: `kratos-hooks: try Kratos web_hook payloads locally and check the wiring before deploying

Usage:
  kratos-hooks try <hook> <ctx.json> [options]     what Kratos does with the hook's answer
  kratos-hooks try <hook> --example <scenario>     the same with a shipped example ctx
  kratos-hooks doctor [kratos.yml] [options]       check kratos.yml and its identity schemas
  kratos-hooks config check [file]                 check our own config as the server does at start
  kratos-hooks backfill --admin-url <url> [options] bring stored identities to the same rules
  kratos-hooks dev [options]                       Kratos, the hooks, the gateway and a courier sink locally
  kratos-hooks init [dir] [--worker]               a new project: your policies and gateway rules, Node or Worker
  kratos-hooks shield status|unlock <identifier>   the gateway's shield: an identifier's failed logins, or unlock it

Run \`kratos-hooks <command> --help\` for a command's options.
${EXIT_CODES_HELP}`,
  try: `kratos-hooks try <hook> <ctx.json> [options]
kratos-hooks try <hook> --example <scenario> [options]

Renders the Jsonnet body template that kratos.yml wires for <hook> with the ctx as Kratos's
top-level argument, sends it to the handler and says what Kratos would do with the answer.

  <hook>               ${HOOK_IDS.join(", ")}
  <ctx.json>           a ctx as Kratos builds it (flow, identity, request_headers, …)
  --example [name]     a shipped ctx from kratos/examples (without a name: list them)
  --config <file>      our JSON config (default: HOOKS_CONFIG_FILE / HOOKS_CONFIG, else the defaults)
  --kratos <file>      kratos.yml (default: ./kratos/kratos.yml, else the shipped one)
  --cwd <dir>          Kratos's working directory for relative file:// URLs
                       (default: the folder of kratos.yml)
  --url <url>          call a running service (Node or wrangler dev) instead of the in-process
                       handler, with the auth and headers kratos.yml configures
${VERSION_HELP}
  --json               print the report as JSON
  -h, --help           this help

${EXIT_CODES_HELP}`,
  doctor: `kratos-hooks doctor [kratos.yml] [options]

Checks a Kratos config for the keys kratos-hooks depends on (identity, schemas, selfservice
flows and their hooks), the web_hook traps Kratos does not warn about, each identity schema it
points at, and our routing rules against the schema ids it declares.

  [kratos.yml]         default: ./kratos/kratos.yml, else the shipped one
  --cwd <dir>          Kratos's working directory for relative file:// URLs
                       (default: the folder of kratos.yml)
  --schemas <dir>      also check every *.json in <dir> as an identity schema
  --config <file>      our JSON config whose routing rules to check (default: as the server)
  --gateway <url>      the gateway's public URL: warn unless serve.public.base_url is it
                       (without it, GATEWAY_KRATOS_URL in the environment: warn when
                       base_url is Kratos's own address)
  --hooks              also print the hooks Kratos really runs, in order, for every flow,
                       phase and enabled method (a method's own list replaces the flow's)
${VERSION_HELP}
  --json               print the findings as JSON
  -h, --help           this help

One line per finding: file:line  severity  path  message  (fix: …).
${EXIT_CODES_HELP}`,
  backfill: `kratos-hooks backfill --admin-url <url> [options]

Runs the registration-after policies (phone normalization, schema routing, deny rules) on every
identity Kratos already stores, through its admin API, and writes what they change with JSON
Patch. Identities whose phones normalize to the same number (collisions) are not written.
One report line per identity (JSON Lines, mode 0600: it holds personal data).

  --admin-url <url>    Kratos's admin API, e.g. ${DEFAULT_DEV_URLS.admin} (required)
  --token <token>      a bearer token for it (default: KRATOS_ADMIN_TOKEN; Ory Network, or a
                       protected admin API)
  --region <CC>        read national numbers in this region (default: normalizePhone.defaultRegion;
                       with neither they are reported invalid, reason region_required)
  --dry-run            write nothing; report what a real run would do (would_update)
  --report <file>      default: backfill-<UTC time>.jsonl here; the checkpoint is <file>.checkpoint
  --concurrency <n>    re-reads and writes in flight (default 4); listing is one page at a time
  --config <file>      our JSON config (default: HOOKS_CONFIG_FILE / HOOKS_CONFIG, else the defaults)
  --resume <file>      go on from a checkpoint, appending to its report
  -h, --help           this help

Statuses: updated (would_update), unchanged, invalid, collision, denied, failed.
${EXIT_CODES_HELP}`,
  dev: `kratos-hooks dev [options]

Runs the whole local stack in one command, no Docker, until Ctrl-C: Ory Kratos with
kratos/kratos.yml (its serve.public.base_url is the gateway), our hooks and the gateway in front
of Kratos's public API (the server \`npm start\` runs, with the same environment: HOOKS_CONFIG_FILE,
HOOKS_CONFIG, HOOKS_API_KEYS, LOG_LEVEL), and a courier sink that prints every SMS and email with
its code. Prints the URLs and a curl registration and login through the gateway.

Your own service (policies and gateway rules in TypeScript) instead of ours:
  --entry <file>       run <file> (.ts or .js) with \`tsx watch\`, rerun when it or a file it
                       imports changes. It calls serve() from kratos-hooks/node, which reads
                       the environment dev sets (PORT, HOST, GATEWAY_KRATOS_URL, GATEWAY_PORT)
                       and the variables above; dev says when it is ready again. tsx: your
                       project's (\`init\` adds it; else \`npm install --save-dev tsx\`)
  --config <kratos.yml> your Kratos config instead of the shipped one (with --entry and no
                       --config: ./kratos/kratos.yml when there is one, as \`init\` writes it).
                       Kratos runs in its folder, so relative file:// URLs (identity schemas,
                       Jsonnet) resolve from there. dev moves only the shipped addresses of the
                       hooks (${SHIPPED_ADDRESSES.hooks}) and the sink (${SHIPPED_ADDRESSES.sink}) to the
                       ports given, in a copy, and sets serve.public/admin and the DSN through
                       Kratos's environment; the banner says what it used and changed

Kratos: KRATOS_BIN if set, else the cached build, else built from its Go module into
~/.cache/kratos-hooks (needs Go 1.23+ and gcc, once, a few minutes). It prints the release the
binary reports (\`kratos version\`).

  --kratos-version <v> run this tested release (${TESTED_KRATOS_VERSIONS.join(", ")}): KRATOS_BIN_V… if set, else
                       the cache, a build (v1.3.1) or the provided archive (v26.2.0); with
                       KRATOS_BIN, that binary must report <v>
  --hooks-port <n>     the hooks (default ${DEV_PORTS.hooks})
  --gateway-port <n>   the gateway, Kratos's public URL for clients (default ${DEV_PORTS.gateway})
  --public-port <n>    Kratos's own public API, called by the gateway (default ${DEV_PORTS.public})
  --admin-port <n>     Kratos's admin API (default ${DEV_PORTS.admin})
  --sink-port <n>      the courier sink kratos.yml sends SMS and email to (default ${DEV_PORTS.sink})
  --dsn <dsn>          Kratos's database: memory (default), a DSN, or a file path for SQLite
                       on disk (migrated at start)
  -h, --help           this help

Everything listens on ${DEV_HOST}. Kratos's and the server's logs go to files (path printed).
It exits 0 when stopped by Ctrl-C or SIGTERM, 1 when a part fails to start or stops by itself.

${EXIT_CODES_HELP}`,
  shield: `kratos-hooks shield status <identifier> [options]
kratos-hooks shield unlock <identifier> [options]

The gateway's shield (docs/shield.md): status prints an identifier's failed logins, whether it is
locked and the codes sent to it; unlock forgets its failed logins and its SMS budget, on every
client. The identifier is read as the gateway reads a login's: E.164 for a phone number (a
national one in --region, else normalizePhone.defaultRegion), else trimmed and lower-cased.

A CLI cannot reach the service's memory, so it asks the running service, or Redis:
  --url <url>          the service's hooks listener (default ${DEFAULT_HOOKS_URL}), its
                       authenticated admin route; the key from HOOKS_API_KEY, else the first of
                       HOOKS_API_KEYS. The gateway's listener has no such route
  --insecure           send the key over plain http to another machine (refused without it)
  --redis <url>        GATEWAY_SHIELD_REDIS_URL's Redis, directly: needs GATEWAY_SHIELD_SECRET,
                       the service's own, and its config (HOOKS_CONFIG_FILE / HOOKS_CONFIG)
  --config <file>      with --redis: our JSON config (default: HOOKS_CONFIG_FILE / HOOKS_CONFIG)
  --region <CC>        read a national number in this region
  --json               print the answer as JSON: {failures, locked, reset_at, sms_sent} or
                       {unlocked: true}
  -h, --help           this help

The identifier goes in the request's body, never its URL, and the service logs only its pseudonym.

${EXIT_CODES_HELP}`,
  init: `kratos-hooks init [dir] [options]

Writes a new project that runs kratos-hooks with a policy and a gateway rule of your own, ready
for \`npm install\`, \`npm test\` and \`npm start\`: an ESM package.json (kratos-hooks, TypeScript,
tsx, vitest), a strict tsconfig.json, src/server.ts calling serve() from kratos-hooks/node,
src/policies/tag-signup.ts with its test (kratos-hooks/testing), src/gateway/log-submissions.ts,
this package's kratos/ (kratos.yml, its Jsonnet bodies) and schemas/ to edit, .env.example,
.gitignore, and a README.md that says what to do next.

  [dir]                the project's folder, created if missing (default: the current folder).
                       It must be empty: init never overwrites. Its name names the package
  --worker             a Cloudflare Worker instead: src/worker.ts calling createWorker() from
                       kratos-hooks/worker, wrangler.toml, .dev.vars (HOOKS_DEV_MODE=true, for
                       \`wrangler dev\` only, never deployed) and tests that run in workerd
  --json               print what was written as JSON
  -h, --help           this help

${EXIT_CODES_HELP}`,
  config: `kratos-hooks config check [file] [options]

Validates our configuration with the messages the server prints at start. With [file], checks
it as HOOKS_CONFIG_FILE; without, checks what the server would read from the environment
(HOOKS_CONFIG_FILE, HOOKS_CONFIG, HOOKS_API_KEYS, LOG_LEVEL, PORT).

  --json               print the result as JSON
  -h, --help           this help

${EXIT_CODES_HELP}`,
};
