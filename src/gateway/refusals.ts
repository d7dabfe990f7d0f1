/**
 * Every request the gateway refuses with 400 rather than forward, by reason: each one a request
 * that Kratos and the gateway could read differently (framing, path, body), so that forwarding
 * it would let Kratos act on something the gateway did not see. One table feeds the answer
 * (Kratos's error shape, the text as `reason`), the log line and the metric (the key).
 */
export const REFUSALS = {
  transfer_encoding_unsupported: 'The request\'s Transfer-Encoding is not exactly "chunked".',
  transfer_encoding_http10: "The request has a Transfer-Encoding on HTTP/1.0.",
  host_repeated: "The request has more than one Host header.",
  path_empty_segment: "The request path has an empty segment (//).",
  path_encoded_separator: "The request path has an encoded slash or backslash (%2F, %5C).",
  path_dot_segment: "The request path has a . or .. segment.",
  path_trailing_slash: "The request path ends in a slash after a Kratos route.",
  content_type_list: "The Content-Type lists more than one media type.",
  multipart: "A self-service submission must be JSON or application/x-www-form-urlencoded, not multipart.",
  json_not_utf8: "The JSON body is not valid UTF-8.",
  json_not_object: "The JSON body is not an object.",
  json_syntax: "The JSON body is not valid JSON.",
  json_trailing_data: "The JSON body has data after the object.",
  json_too_deep: "The JSON body nests deeper than 64 levels.",
  json_duplicate_key: "The JSON body has a top-level key more than once.",
  form_semicolon: "The form or query has a semicolon.",
  form_bad_escape: "The form or query has a malformed percent escape.",
  form_too_many_fields: "The form or query has more than 10000 fields.",
  phone_field_not_string: "A field that can hold a phone number is not a string.",
  phone_field_repeated: "A field that can hold a phone number is given more than once.",
  phone_field_in_json_text: "A field that can hold a phone number is inside a JSON text; send it as a field of its own.",
  object_text_not_one_object: "A JSON text given for an object field (traits, transient_payload) is not exactly one JSON object.",
  object_field_repeated: "An object field (traits, transient_payload) is given more than once.",
} as const satisfies Record<string, string>;

/** A reason the gateway refuses a request (a key of `REFUSALS`). */
export type Refusal = keyof typeof REFUSALS;

/**
 * A refusal thrown from deep inside the reading of a submission, where returning it would thread
 * a result through every step; `readSubmission` catches it and answers with the refusal as a value.
 */
export class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal);
  }
}

export function refuse(refusal: Refusal): never {
  throw new Refused(refusal);
}
