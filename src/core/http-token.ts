/**
 * RFC 9110 §5.6.2 `token`: what an HTTP header name (and a method) is made of. Go's net/http checks
 * header names by the same set, so a name outside it is one Kratos would not send as written.
 */
export const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
