/** Kratos's public routes without a variable part (Kratos v1.3.1: the flow handlers in `selfservice/flow/`, `session/handler.go`, `schema/handler.go`). */
const STATIC_ROUTES = new Map(
  [
    ...["login", "registration", "settings", "recovery", "verification"].flatMap((flow) => [
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
