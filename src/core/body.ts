/** Largest body read into memory: a hook call (Kratos's Jsonnet output is capped at 64 KiB–512 KiB), or a self-service submission the gateway rewrites. */
export const MAX_BODY_BYTES = 1024 * 1024;

export type BodyResult = { ok: true; bytes: Uint8Array } | { ok: false; tooLarge: true };

/**
 * Reads a request body, stopping as soon as it passes `limit` bytes, so an oversize or
 * endless body costs at most `limit` bytes of memory. A declared Content-Length over the
 * limit is refused before reading.
 */
export async function readBody(request: Request, limit: number): Promise<BodyResult> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > limit) return { ok: false, tooLarge: true };
  // A declared length is enforced by the HTTP layer, so the body is read in one go: on Node the
  // adapter then reads the socket directly instead of through a web stream (test/bench).
  if (Number.isInteger(declared) && declared >= 0) return { ok: true, bytes: new Uint8Array(await request.arrayBuffer()) };
  if (request.body === null) return { ok: true, bytes: new Uint8Array() };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return { ok: false, tooLarge: true };
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { ok: true, bytes };
}
