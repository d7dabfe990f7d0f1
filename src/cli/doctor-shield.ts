import type { Config } from "../config/schema.js";
import { SHIELD_FORM_FLOWS } from "../core/shield-flows.js";
import { finding, type YamlFinding } from "./doctor-finding.js";

function at(data: unknown, path: readonly string[]): unknown {
  let node = data;
  for (const key of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/**
 * The gateway's shield against kratos.yml, when the gateway is in front (`--gateway` or
 * `GATEWAY_KRATOS_URL`): a refused form post is sent back to Kratos's `ui_url` only when
 * `gateway.shield.uiUrls` names it (the gateway cannot read kratos.yml), and behind an ingress
 * the shield can only count per client with the forwarded headers (docs/shield.md).
 */
export function shieldFindings(kratos: unknown, config: Config, options: { gatewayUrlGiven: boolean }): YamlFinding[] {
  const shield = config.gateway.shield;
  if (!shield.enabled) return [];
  const findings: YamlFinding[] = [];
  for (const flow of SHIELD_FORM_FLOWS) {
    const path = ["selfservice", "flows", flow, "ui_url"];
    const uiUrl = at(kratos, path);
    if (typeof uiUrl !== "string" || shield.uiUrls[flow] === uiUrl) continue;
    const set = shield.uiUrls[flow];
    findings.push(
      finding({
        code: "shield-ui-url",
        effect: "warning",
        at: path,
        message:
          set === null
            ? `the gateway's shield does not know the ${flow} UI (${uiUrl}): a ${flow} form post it refuses gets a bare page of the gateway's own (429) instead of the form with the message`
            : `gateway.shield.uiUrls.${flow} is ${set}, not Kratos's ${uiUrl}: a ${flow} form post the shield refuses is sent to another page than Kratos's own failures`,
        fix: `set gateway.shield.uiUrls.${flow} to ${JSON.stringify(uiUrl)} in the kratos-hooks config`,
      }),
    );
  }
  if (options.gatewayUrlGiven && shield.perClient === "auto" && !config.gateway.trustForwardedHeaders) {
    findings.push(
      finding({
        code: "shield-per-client",
        effect: "warning",
        at: ["serve", "public", "base_url"],
        path: "gateway.trustForwardedHeaders",
        message:
          "the gateway's shield tells clients apart by the connection's address; behind a load balancer or an ingress every client has the proxy's (private) address, and the shield then stops counting per client, so credential stuffing from one address is counted only per identifier",
        fix: 'behind a proxy that appends the client to X-Forwarded-For, set gateway.trustForwardedHeaders: true; with clients connecting directly, set gateway.shield.perClient: "on"',
      }),
    );
  }
  return findings;
}
