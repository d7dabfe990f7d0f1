import { SELF_SERVICE_FLOWS } from "../kratos/self-service.js";
import type { Refusal } from "./refusals.js";

/** Kratos's public routes without a variable part (Kratos v1.3.1: the flow handlers in `selfservice/flow/`, `session/handler.go`, `schema/handler.go`). */
const STATIC_ROUTES = new Map(
  [
    ...SELF_SERVICE_FLOWS.flatMap((flow) => [
      `/self-service/${flow}`,
      `/self-service/${flow}/browser`,
      `/self-service/${flow}/api`,
      `/self-service/${flow}/flows`,
    ]),
    "/self-service/logout",
    "/self-service/logout/browser",
    "/self-service/logout/api",
    "/self-service/errors",
    "/sessions",
    "/sessions/whoami",
    "/sessions/token-exchange",
    "/schemas",
    "/health/alive",
    "/health/ready",
    "/version",
    "/.well-known/ory/webauthn.js",
  ].map((path) => [path, path] as const),
);

const PATTERNS: readonly [RegExp, string][] = [
  [/^\/schemas\/[^/]+$/, "/schemas/:id"],
  [/^\/sessions\/[^/]+$/, "/sessions/:id"],
  [/^\/self-service\/methods\/oidc\/callback\/[^/]+$/, "/self-service/methods/oidc/callback/:provider"],
  [/^\/self-service\/methods\/oidc\//, "/self-service/methods/oidc/*"],
];

/**
 * The route a path belongs to, as the log names it: ids and provider names are replaced, and a
 * path Kratos does not serve is logged as `other`, so no log line repeats what a client put in a
 * path. The query is never part of it.
 */
export function routeTemplate(path: string): string {
  const known = STATIC_ROUTES.get(path);
  if (known !== undefined) return known;
  for (const [pattern, template] of PATTERNS) if (pattern.test(path)) return template;
  return "other";
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Why a path (as the gateway forwards it: the request URL's path, still percent-encoded) is not
 * in the one spelling every supported Kratos routes the same way, or undefined when it is. The
 * URL parser has already resolved `.` and `..` (also written `%2e`); what is left:
 * - an empty segment (`//self-service/login`): Kratos v1.3.1 and v25.4 clean the path and run
 *   the route (`x.CleanPath`), v26.2 redirects;
 * - an encoded slash or backslash (`/self-service%2Flogin`): v1.3.1 routes the decoded path, so
 *   it runs the login; v25.4 and v26.2 answer 404;
 * - a trailing slash after a route (`/self-service/login/`): v25.4 registers every route with
 *   its trailing-slash twin and runs it.
 * A percent-encoded letter (`/self-service/%6cogin`) is not refused: every version decodes it,
 * and so does the gateway before it matches a route. Capitals are not refused: Kratos answers
 * with a redirect to the canonical path at most, which comes back through the gateway.
 * (Measured on all three versions: docs/gateway.md#security.)
 */
export function pathRefusal(path: string): Refusal | undefined {
  if (path.includes("//")) return "path_empty_segment";
  if (/%(?:2f|5c)/i.test(path)) return "path_encoded_separator";
  for (const segment of path.split("/")) {
    const plain = segment.includes("%") ? decoded(segment) : segment;
    if (plain === "." || plain === "..") return "path_dot_segment";
  }
  if (path.length > 1 && path.endsWith("/") && routeTemplate(decoded(path.slice(0, -1))) !== "other") return "path_trailing_slash";
  return undefined;
}
