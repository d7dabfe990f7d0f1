import { disposableEmailBlocklist } from "disposable-email-domains-js";
import { domainMatches } from "./email.js";

let blocklist: ReadonlySet<string> | undefined;

/**
 * True for a disposable (throwaway) mail domain or a subdomain of one. The list is the
 * community-maintained disposable-email-domains list, shipped by `disposable-email-domains-js`;
 * it is loaded into a set once, on first use.
 */
export function isDisposableDomain(domain: string): boolean {
  blocklist ??= new Set(disposableEmailBlocklist());
  return domainMatches(domain, blocklist);
}
