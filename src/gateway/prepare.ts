import type { Context } from "hono";
import { STATUS } from "../core/http-status.js";
import { resolvePhoneRegion } from "../core/phone-region.js";
import { SELF_SERVICE_FLOWS, type SelfServiceFlow } from "../kratos/self-service.js";
import type { GatewayEnv } from "./app.js";
import { clientAddressOf } from "./conn-info.js";
import type { GatewayDeps } from "./deps.js";
import { firstHeader, type HeaderRecord } from "./headers.js";
import { kratosRefusal } from "./kratos-error.js";
import { logRequest } from "./request-log.js";
import { pathAndQuery } from "./request-target.js";
import { type Attempt, clientKindOf, readAttempt } from "./shield/attempt.js";
import { bodyFormatOf, type RegionOf, readSubmission, type Submission } from "./submission.js";

/** A submission read before the rules: what to forward, or the answer when it cannot be. */
export type Prepared =
  | { query: string | undefined; body: Uint8Array | undefined; rewritten: string[]; attempt: Attempt | undefined }
  | { response: Response };

const SUBMIT = new Map<string, SelfServiceFlow>(SELF_SERVICE_FLOWS.map((flow) => [`/self-service/${flow}`, flow]));
/**
 * The methods whose submissions Kratos reads: POST (the body, and for recovery and verification
 * the query merged over a JSON body), GET (the query: settings and verification accept a whole
 * submission there) and HEAD (v25.4+ route it to the GET handler).
 */
const SUBMITTING = new Set(["GET", "HEAD", "POST"]);

/**
 * Reads a self-service submission once (the body, the phone rewriting, the attempt), before the
 * rules when there are any; any other request passes as it came.
 */
export async function prepare(deps: GatewayDeps, c: Context<GatewayEnv>, since: number): Promise<Prepared> {
  const known = c.get("prepared");
  if (known !== undefined) return known;
  const method = c.req.method;
  const target = pathAndQuery(c.req.url);
  // The decoded path: every Kratos decodes `/self-service/%6cogin` to the login route (./routes.ts).
  const flow = deps.reading && SUBMITTING.has(method) ? SUBMIT.get(c.req.path) : undefined;
  let prepared: Prepared;
  if (flow === undefined) prepared = { query: target.query, body: undefined, rewritten: [], attempt: undefined };
  else prepared = await readFlowSubmission(deps, c, since, flow, target.query);
  c.set("prepared", prepared);
  if ("attempt" in prepared) c.set("attempt", prepared.attempt);
  return prepared;
}

/** A submission to a flow's route: its body read (up to the limit), its phone fields rewritten, the shield's attempt. */
async function readFlowSubmission(
  deps: GatewayDeps,
  c: Context<GatewayEnv>,
  since: number,
  flow: SelfServiceFlow,
  query: string | undefined,
): Promise<Prepared> {
  const { config } = deps;
  const incoming = deps.transport.headers(c);
  const format = c.req.method === "POST" ? bodyFormatOf(firstHeader(incoming["content-type"])) : undefined;
  if (format === "content_type_list" || format === "multipart") {
    logRequest(deps, c, since, STATUS.badRequest, [], { refusal: format });
    return { response: kratosRefusal(format) };
  }
  let bytes: Uint8Array | undefined;
  if (format !== undefined) {
    const read = await deps.checks.body(c);
    if ("response" in read) {
      logRequest(deps, c, since, read.response.status, [], read.why);
      return { response: read.response };
    }
    bytes = read.bytes;
  }
  const regionOf = regionReader(deps, c, incoming);
  const fields = config.normalizePhone.enabled ? (deps.fieldsOf.get(flow) ?? new Set<string>()) : new Set<string>();
  const submission = readSubmission({ query: query ?? "", fields, ...(format && bytes && { body: { format, bytes } }) }, regionOf.read);
  if (!submission.ok) {
    logRequest(deps, c, since, STATUS.badRequest, [], { refusal: submission.refusal });
    return { response: kratosRefusal(submission.refusal) };
  }
  const attempt = deps.shield === undefined ? undefined : attemptOf(deps, c, incoming, { flow, query, submission, regionOf });
  return { query: query === undefined ? undefined : submission.query, body: submission.body, rewritten: submission.rewritten, attempt };
}

/** How a submission's national numbers find their region, and the last region found. */
interface RegionReader {
  read: RegionOf;
  last: ReturnType<RegionOf> | undefined;
}

/**
 * The phone region of a national number in the submission (the number's own pick, the region
 * header, the client's country when `gateway.regionFromClientCountry`, then `defaultRegion`),
 * keeping the last one resolved for the attempt.
 */
function regionReader(deps: GatewayDeps, c: Context, incoming: HeaderRecord): RegionReader {
  const { regionHeader, config } = deps;
  const header = regionHeader === null ? undefined : (firstHeader(incoming[regionHeader]) ?? undefined);
  const clientCountry = config.gateway.regionFromClientCountry ? deps.connInfo(c).country : undefined;
  const reader: RegionReader = {
    last: undefined,
    read: (picked) => {
      reader.last = resolvePhoneRegion({ picked, header, clientCountry }, config.normalizePhone);
      return reader.last;
    },
  };
  return reader;
}

/** The shield's reading of the submission: who tries what, from where. */
function attemptOf(
  deps: GatewayDeps,
  c: Context<GatewayEnv>,
  incoming: HeaderRecord,
  read: {
    flow: SelfServiceFlow;
    query: string | undefined;
    submission: Extract<Submission, { ok: true }>;
    regionOf: RegionReader;
  },
): Attempt {
  const { flow, query, submission, regionOf } = read;
  return readAttempt({
    flow,
    flowId: new URLSearchParams(query ?? "").get("flow") ?? undefined,
    fields: submission.fields,
    phoneTraits: deps.config.normalizePhone.fields,
    region: (regionOf.last ?? regionOf.read(undefined)).region,
    clientAddress: c.get("clientAddress") ?? clientAddressOf(c, deps, deps.config.gateway.trustForwardedHeaders),
    clientKind: clientKindOf(firstHeader(incoming["content-type"]) ?? undefined, firstHeader(incoming.accept) ?? undefined),
  });
}
