/** The domain of an email address, lower-cased, without a trailing dot; undefined if there is none. */
export function emailDomain(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const at = value.lastIndexOf("@");
  if (at < 1) return undefined;
  const domain = value
    .slice(at + 1)
    .trim()
    .toLowerCase()
    .replace(/\.$/, "");
  return domain === "" ? undefined : domain;
}

/** True when `domain` is one of `listed` or a subdomain of one (`mail.example.com` matches `example.com`). */
export function domainMatches(domain: string, listed: ReadonlySet<string>): boolean {
  let candidate = domain;
  for (;;) {
    if (listed.has(candidate)) return true;
    const dot = candidate.indexOf(".");
    if (dot < 0) return false;
    candidate = candidate.slice(dot + 1);
  }
}
