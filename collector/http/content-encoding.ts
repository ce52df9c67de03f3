// gzip / deflate bodies decoded for capture, bounded: only a prefix of the compressed bytes is
// kept (maxCompressed), and inflating it may produce at most maxOutput bytes — a larger result
// (a compression bomb, or just a big body) is retried on a shorter compressed prefix, so memory
// and time stay bounded whatever the ratio. Truncated input is fine (Z_SYNC_FLUSH).
import { constants, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';

export type Coding = 'gzip' | 'deflate' | null;

export function codingOf(contentEncoding: string | undefined): Coding {
  if (contentEncoding === undefined) return null;
  const v = contentEncoding.trim().toLowerCase();
  if (v === 'gzip' || v === 'x-gzip') return 'gzip';
  if (v === 'deflate') return 'deflate';
  return null;
}

const FLUSH = { finishFlush: constants.Z_SYNC_FLUSH };

function inflateOnce(coding: Exclude<Coding, null>, input: Buffer, maxOutput: number): Buffer {
  const o = { ...FLUSH, maxOutputLength: maxOutput };
  if (coding === 'gzip') return gunzipSync(input, o);
  // "deflate" is zlib-wrapped per the RFC, but some servers send raw deflate.
  try {
    return inflateSync(input, o);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw err;
    return inflateRawSync(input, o);
  }
}

/** The first `keep` decoded bytes, or null when the bytes do not decode. */
export function decodeBody(coding: Exclude<Coding, null>, compressed: Buffer, keep: number, maxOutput: number): Buffer | null {
  let input = compressed;
  for (let attempt = 0; attempt < 12 && input.length > 0; attempt++) {
    try {
      const out = inflateOnce(coding, input, maxOutput);
      return out.length > keep ? out.subarray(0, keep) : out;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') return null;
      input = input.subarray(0, input.length >> 1);
    }
  }
  return null;
}
