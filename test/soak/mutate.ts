/** A small seeded generator (mulberry32), so that a run's 100,000 payloads are the same each time. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every path to a value inside a document (object keys and array indices). */
function paths(node: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(node)) {
    for (const [i, child] of node.entries()) paths(child, [...prefix, i], out);
  } else if (node !== null && typeof node === "object") for (const [k, child] of Object.entries(node)) paths(child, [...prefix, k], out);
  return out;
}

function parentOf(root: Json, path: (string | number)[]): { parent: Json; key: string | number } | undefined {
  if (path.length === 0) return undefined;
  let node = root;
  for (const key of path.slice(0, -1)) node = (node as Record<string | number, Json>)[key] as Json;
  return { parent: node, key: path[path.length - 1] as string | number };
}

/**
 * `count` payloads, made one at a time (some are near 1 MB), derived from real hook bodies, each broken one way or a few: a value of
 * another type, a key removed, a huge string, deep nesting, or JSON that is not JSON at all.
 */
export function* mutations(
  calls: readonly { hook: string; body: string }[],
  count: number,
  seed: number,
): Generator<{ hook: string; body: string }> {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const others: Json[] = [null, true, 0, -1, 1e308, "", "x", [], {}, [1, "a", null], { a: { b: [] } }, "0176 1234 5678", "🙂".repeat(50)];
  for (let i = 0; i < count; i++) {
    const call = pick(calls);
    const kind = next();
    if (kind < 0.15) {
      // Not JSON: cut short, a stray byte, or text that is not UTF-8 JSON at all.
      const at = Math.floor(next() * call.body.length);
      const broken = [
        call.body.slice(0, at),
        `${call.body.slice(0, at)}\u0000${call.body.slice(at)}`,
        `${call.body}}`,
        "\uFFFD\uD800",
        "[",
        "nul",
      ];
      yield { hook: call.hook, body: pick(broken) };
      continue;
    }
    const doc = JSON.parse(call.body) as Json;
    // Deep nesting is written as text: JSON.stringify itself stops at a few thousand levels.
    const deep = new Map<string, number>();
    const edits = 1 + Math.floor(next() * 3);
    for (let e = 0; e < edits; e++) {
      const target = pick(paths(doc));
      const spot = parentOf(doc, target);
      const r = next();
      if (spot === undefined) continue;
      const parent = spot.parent as Record<string | number, Json>;
      if (r < 0.35) parent[spot.key] = pick(others);
      else if (r < 0.6) {
        if (Array.isArray(parent)) parent.splice(Number(spot.key), 1);
        else delete parent[spot.key];
      } else if (r < 0.8) parent[spot.key] = "9".repeat(Math.floor(next() * 900_000));
      else {
        const marker = `__deep_${deep.size}__`;
        deep.set(marker, Math.floor(next() * 20_000));
        parent[spot.key] = marker;
      }
    }
    let body = JSON.stringify(doc);
    for (const [marker, depth] of deep) {
      const open = Array.from({ length: depth }, (_, d) => (d % 2 === 0 ? "[" : '{"d":')).join("");
      const close = Array.from({ length: depth }, (_, d) => (d % 2 === 0 ? "]" : "}"))
        .reverse()
        .join("");
      body = body.replace(`"${marker}"`, `${open}null${close}`);
    }
    yield { hook: call.hook, body };
  }
}
