import type { DevKratosConfig, TsxCli } from "./dev-entry.js";
import type { DevUrls } from "./dev-stack.js";
import { featuresOf, formatJudgedKratos, type JudgedKratos, VERSION_FLAG } from "./kratos-version.js";
import { displayPath } from "./usage.js";

// What `kratos-hooks dev` prints once the stack is up: the URLs, whose service and which
// kratos.yml run, and the curl commands that register and log in through the gateway.

/** What the banner says beyond the URLs: whose service runs, and which kratos.yml Kratos reads. */
export interface DevSetup {
  /** `--entry`: the entry and the tsx that runs it. */
  entry?: { file: string; tsx: TsxCli } | undefined;
  /** The kratos.yml chosen, the file Kratos reads (a copy when dev changed something) and what changed. */
  kratosConfig?: { chosen: DevKratosConfig; runs: string; changes: readonly string[] } | undefined;
  /** The Kratos config sends its SMS and email somewhere other than the sink (its own courier). */
  courierElsewhere?: boolean;
}

const CONFIG_SOURCE = {
  "--config": "yours, --config",
  project: "your project's ./kratos/kratos.yml",
  shipped: "the one kratos-hooks ships",
} as const;

function setupLines(setup: DevSetup): string {
  const lines: string[] = [];
  if (setup.entry !== undefined) {
    const { file, tsx } = setup.entry;
    const from = tsx.from === "project" ? "your project's" : "kratos-hooks's";
    lines.push(
      `  your service   ${displayPath(file)}   (the hooks and the gateway; tsx ${tsx.version} watch, ${from}, reruns it on a change)`,
    );
  }
  if (setup.kratosConfig !== undefined) {
    const { chosen, runs, changes } = setup.kratosConfig;
    lines.push(`  kratos config  ${displayPath(chosen.file)}   (${CONFIG_SOURCE[chosen.source]}; Kratos runs in its folder)`);
    lines.push(
      changes.length === 0
        ? "                 used as is; dev sets only serve.public/admin (host, port, base_url) and the DSN, in Kratos's environment"
        : `                 dev moved ${changes.join(", ")} in a copy (${runs}),\n                 and sets serve.public/admin (host, port, base_url) and the DSN in Kratos's environment`,
    );
  }
  return lines.map((line) => `${line}\n`).join("");
}

/** The URLs and the copy-paste native registration and login through the gateway. */
export function devBanner(urls: DevUrls, dsn: string, logs: string, kratos: JudgedKratos, setup: DevSetup = {}): string {
  const phone = "0176 1234 5678";
  const password = "correct horse battery staple 42";
  const region = `"transient_payload":{"phone_region":"DE"}`;
  const g = urls.gateway;
  const yours = setup.entry !== undefined;
  return `
kratos-hooks dev: the local stack is up (Ctrl-C stops it all)

  gateway        ${g}   ← clients call this (Kratos's public API, ${yours ? "your gateway rules, " : ""}phone numbers to E.164)
  hooks          ${urls.hooks}   (Kratos's web_hooks${yours ? ": your policies" : ""}, development key unless HOOKS_API_KEYS)
${setupLines(setup)}  kratos public  ${urls.public}   (only the gateway calls it)
  kratos admin   ${urls.admin}
  kratos         ${formatJudgedKratos(kratos)}
  courier sink   ${urls.sink}   (${setup.courierElsewhere === true ? "unused: your kratos.yml's courier sends SMS and email elsewhere, for real" : "SMS and email are printed below"})
  database       ${dsn}
  logs           ${logs}

Register with a national number, then log in (native API flows through the gateway${yours ? ", Kratos calls your hooks" : ""}; needs curl and jq):

  flow=$(curl -s ${g}/self-service/registration/api | jq -r .id)
  curl -s -X POST "${g}/self-service/registration?flow=$flow" -H 'Content-Type: application/json' \\
    -d '{"method":"password","password":"${password}","traits":{"phone":"${phone}"},${region}}' | jq ${yours ? "'.identity | {traits, metadata_public}'" : ".identity.traits"}

  flow=$(curl -s ${g}/self-service/login/api | jq -r .id)
  curl -s -X POST "${g}/self-service/login?flow=$flow" -H 'Content-Type: application/json' \\
    -d '{"method":"password","identifier":"${phone}","password":"${password}",${region}}' | jq .session_token

${phoneOnlySignUp(g, region, kratos)}
`;
}

/**
 * Phone-only sign-up by SMS code (Kratos v25.4+): the flow on the `phone` schema, the number and
 * its region, then the code the sink prints. Earlier releases get a line saying what they need.
 */
function phoneOnlySignUp(g: string, region: string, kratos: JudgedKratos): string {
  if (!featuresOf(kratos).phoneCodeSignUp) {
    return `Phone-only sign-up by SMS code needs Kratos v25.4+ (${VERSION_FLAG} v26.2.0).
`;
  }
  const signUp = (extra: string) =>
    `curl -s -X POST "${g}/self-service/registration?flow=$flow" -H 'Content-Type: application/json' \\
    -d '{"method":"code",${extra}"traits":{"phone":"0176 1234 5679"},${region}}'`;
  return `Phone-only sign-up by SMS code (Kratos v25.4+; the code is printed below as the SMS arrives):

  flow=$(curl -s "${g}/self-service/registration/api?identity_schema=phone" | jq -r .id)
  ${signUp("")} | jq .state
  ${signUp('"code":"<the code>",')} | jq .identity.traits
`;
}
