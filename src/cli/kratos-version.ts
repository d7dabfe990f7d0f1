import { STATUS } from "../core/http-status.js";
import { isJsonObject } from "../core/json.js";
import { DEFAULT_DEV_URLS, DEV_PORTS } from "./dev-stack.js";
import { TESTED_KRATOS_VERSIONS, type TestedKratosVersion } from "./kratos-binary.js";
import { UsageError } from "./usage.js";

/** The flag `doctor`, `try` and `dev` take to name the Kratos release they judge for. */
export const VERSION_FLAG = "--kratos-version";

/** Where the release came from, most explicit first: the flag, the admin API, the binary `dev` runs, the default. */
export type KratosVersionSource = "flag" | "admin-api" | "binary" | "default";

/** The Kratos release a command judges for, where it learnt it, and the tested release whose behaviour it applies. */
export interface JudgedKratos {
  /** As given or reported, e.g. `v26.2.0`. */
  version: string;
  source: KratosVersionSource;
  /** Where exactly: the flag, the URL asked, the binary's path, or why the default. */
  from: string;
  /** The tested release whose measured behaviour the findings and verdicts follow. */
  judgedAs: TestedKratosVersion;
  /** Why `judgedAs` stands in for `version`, when they differ. */
  note?: string;
}

/**
 * Without a flag or an admin URL, the CLI judges for v1.3.1: the release `dev` builds and runs by
 * default, and the one every finding and verdict followed before releases were told apart, so a
 * script that names none sees what it saw before. Among the doctor fixtures, each config v1.3.1
 * starts also starts on v26.2.0 (test/e2e/doctor-agreement.e2e.test.ts), so a config that passes
 * for the default starts on both tested releases.
 */
export const DEFAULT_KRATOS_VERSION: TestedKratosVersion = "v1.3.1";

type Triple = readonly [number, number, number];

/**
 * The first release of each tested release's feature set (contract §0): from v25.4.0 Kratos reads
 * `clients.web_hook.header_allowlist`, recovers by SMS and takes a web_hook `id`, so v25.4.x up
 * to v26.2.0 and later are judged as v26.2.0, everything before as v1.3.1.
 */
const FEATURE_SETS: readonly { release: TestedKratosVersion; since: Triple }[] = [
  { release: "v26.2.0", since: [25, 4, 0] },
  { release: "v1.3.1", since: [0, 0, 0] },
];

function compare(a: Triple, b: Triple): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

const RELEASE = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

function parseRelease(text: string): { triple: Triple; pre: string | undefined } | undefined {
  const match = RELEASE.exec(text.trim());
  if (match === null) return undefined;
  return { triple: [Number(match[1]), Number(match[2]), Number(match[3])], pre: match[4] };
}

function tripleOf(release: TestedKratosVersion): Triple {
  return (parseRelease(release) as { triple: Triple }).triple;
}

const TESTED = TESTED_KRATOS_VERSIONS.join(" and ");

/** Why the tested release stands in for another one. */
function noteFor(version: string, triple: Triple, pre: string | undefined, judgedAs: TestedKratosVersion): string | undefined {
  const base = `v${triple.join(".")}`;
  const newest = tripleOf(TESTED_KRATOS_VERSIONS[TESTED_KRATOS_VERSIONS.length - 1] as TestedKratosVersion);
  const why =
    compare(triple, [1, 3, 0]) < 0
      ? `older than ${TESTED_KRATOS_VERSIONS[0]}, the oldest tested release; Kratos before v1.3 differs in ways not judged here (it passes every request header to web_hooks, for one)`
      : compare(triple, newest) > 0
        ? `newer than the newest tested release`
        : judgedAs === "v26.2.0"
          ? `not a tested release (${TESTED}); v25.4.0 and later share v26.2.0's feature set (clients.web_hook.header_allowlist, recovery via sms, a web_hook id), but ${base} was not measured`
          : `not a tested release (${TESTED}); releases before v25.4.0 share v1.3.1's feature set`;
  if (pre !== undefined && base === judgedAs) return `${version} is a pre-release of ${base}; judged as ${judgedAs}`;
  if (base === judgedAs) return undefined;
  return `${version} is ${why}: judged as ${judgedAs}`;
}

/**
 * The judgement for a release as given (`v26.2.0`, `26.2.0`, `v25.4.0-pre.1`): the tested release
 * whose feature set holds it. A text that names no release (`master`, `latest`, `26`) is a usage error.
 */
export function toJudgedKratos(version: string, source: KratosVersionSource, from: string): JudgedKratos {
  const parsed = parseRelease(version);
  if (parsed === undefined) {
    const where =
      source === "flag"
        ? `${VERSION_FLAG}: expected a Kratos release such as ${TESTED_KRATOS_VERSIONS.join(" or ")}, found ${JSON.stringify(version)}`
        : `${from} reports the Kratos version ${JSON.stringify(version)}, which names no release (a build without its version set?): pass ${VERSION_FLAG} <release>, e.g. ${VERSION_FLAG} ${TESTED_KRATOS_VERSIONS[0]}`;
    throw new UsageError(where);
  }
  const normalized = `v${parsed.triple.join(".")}${parsed.pre === undefined ? "" : `-${parsed.pre}`}`;
  const set = FEATURE_SETS.find((s) => compare(parsed.triple, s.since) >= 0) as (typeof FEATURE_SETS)[number];
  const note = noteFor(normalized, parsed.triple, parsed.pre, set.release);
  return { version: normalized, source, from, judgedAs: set.release, ...(note === undefined ? {} : { note }) };
}

/** The default judgement, saying that it is one and how to choose another. */
export function defaultJudgedKratos(): JudgedKratos {
  return toJudgedKratos(DEFAULT_KRATOS_VERSION, "default", `the default; ${VERSION_FLAG} or --admin-url judges for another release`);
}

/** Whether `version` is `release` or later (`v1.3.1` < `v25.4.0` < `v26.2.0`); a pre-release counts as its release. */
export function releaseAtLeast(version: string, release: string): boolean {
  const [have, want] = [parseRelease(version), parseRelease(release)];
  if (have === undefined || want === undefined) throw new Error(`not a release: ${have === undefined ? version : release}`);
  return compare(have.triple, want.triple) >= 0;
}

/** Whether the judged release is `release` or later (`acceptedFrom` of a finding, a feature's first release). */
export function judgedAtLeast(judged: JudgedKratos, release: string): boolean {
  return releaseAtLeast(judged.judgedAs, release);
}

/** What differs between the tested releases, as the commands use it. */
export interface KratosFeatures {
  /**
   * v25.4+: the request headers a web_hook's ctx carries are `clients.web_hook.header_allowlist`,
   * which replaces the default list; before, 17 names fixed in the code
   * (`RequestHeaderAllowList`, `selfservice/hook/web_hook.go@v1.3.1`), and the key is ignored.
   */
  configurableHeaderAllowlist: boolean;
  /**
   * Settings hooks see `ctx.flow.transient_payload`: on v1.3.1 yes; on v26.2.0 no (measured,
   * test/e2e/try-agreement.e2e.test.ts). v25.4 was not measured and is judged as v26.2.0.
   */
  settingsTransientPayload: boolean;
  /**
   * Phone-only sign-up by SMS code: v25.4+ (`?identity_schema=` on a `selfservice_selectable`
   * schema whose phone is a code identifier via sms; measured on v26.2.0,
   * test/e2e/phone-signup.e2e.test.ts); v1.3.1 cannot.
   */
  phoneCodeSignUp: boolean;
}

export function featuresOf(judged: JudgedKratos): KratosFeatures {
  const v25 = judgedAtLeast(judged, "v25.4.0");
  return { configurableHeaderAllowlist: v25, settingsTransientPayload: !v25, phoneCodeSignUp: v25 };
}

/** One line for people: `v26.2.0 (--kratos-version)`, with the note when the judgement stands in for it. */
export function formatJudgedKratos(judged: JudgedKratos): string {
  return `${judged.version} (${judged.from})${judged.note === undefined ? "" : `; ${judged.note}`}`;
}

/**
 * The release Kratos's admin API reports: `GET <admin>/admin/version` answers
 * `{"version":"v1.3.1"}` on v1.3.1 and v26.2.0 alike (measured; v1.3.1's plain `/version` is a
 * 307 to it, and the public API has neither). Sends `KRATOS_ADMIN_TOKEN` as a bearer token when
 * set, as the backfill does. Any failure is a usage error that names the alternative, the flag.
 */
export async function fetchKratosVersion(adminUrl: string, env: NodeJS.ProcessEnv = process.env): Promise<JudgedKratos> {
  let base: URL;
  try {
    base = new URL(adminUrl);
  } catch {
    throw new UsageError(
      `--admin-url: expected Kratos's admin API URL such as ${DEFAULT_DEV_URLS.admin}, found ${JSON.stringify(adminUrl)}`,
    );
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new UsageError(`--admin-url: expected an http(s) URL such as ${DEFAULT_DEV_URLS.admin}, found ${base.protocol}`);
  }
  // Credentials in a URL end up in messages and reports: refused, without repeating them.
  if (base.username !== "" || base.password !== "") {
    throw new UsageError("--admin-url: the URL holds credentials; pass the token in KRATOS_ADMIN_TOKEN instead");
  }
  // A base given as …/admin (as Ory Network documents it) names the same API.
  const url = new URL(`${base.pathname.replace(/\/+$/, "").replace(/\/admin$/, "")}/admin/version`, base).href;
  const instead = `or pass ${VERSION_FLAG} <release> instead`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Accept: "application/json", ...(env.KRATOS_ADMIN_TOKEN ? { Authorization: `Bearer ${env.KRATOS_ADMIN_TOKEN}` } : {}) },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new UsageError(`cannot ask Kratos's admin API for its version: ${url} is unreachable (${cause}); start Kratos, ${instead}`);
  }
  const text = await response.text();
  if (response.status !== STATUS.ok) {
    throw new UsageError(
      `cannot ask Kratos's admin API for its version: ${url} answered ${response.status}; --admin-url must be the admin API (port ${DEV_PORTS.admin} by default; the public API has no version endpoint), ${instead}`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    // Not JSON (a SyntaxError): said below, as an answer without a version.
    if (!(error instanceof SyntaxError)) throw error;
  }
  const version = isJsonObject(body) ? body.version : undefined;
  if (typeof version !== "string") {
    throw new UsageError(`cannot ask Kratos's admin API for its version: ${url} answered 200 without {"version": "…"}; ${instead}`);
  }
  return toJudgedKratos(version, "admin-api", url);
}

/** `doctor` and `try`: the flag, else the admin API when given its URL, else the default. */
export async function resolveJudgedKratos(options: { version?: string | undefined; adminUrl?: string | undefined }): Promise<JudgedKratos> {
  if (options.version !== undefined) return toJudgedKratos(options.version, "flag", VERSION_FLAG);
  if (options.adminUrl !== undefined) return fetchKratosVersion(options.adminUrl);
  return defaultJudgedKratos();
}
