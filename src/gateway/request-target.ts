/**
 * `/path` and `query` (without `?`) of a request URL (`http://host/path?query`), as the URL has
 * them (not decoded), without parsing the whole URL: what is checked and forwarded.
 */
export function pathAndQuery(url: string): { path: string; query: string | undefined } {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  const target = slash < 0 ? "/" : url.slice(slash);
  const mark = target.indexOf("?");
  return mark < 0 ? { path: target, query: undefined } : { path: target.slice(0, mark), query: target.slice(mark + 1) };
}
