// Builders for Kafka wire bytes, shared by the unit tests, the fuzzer and the bench.
import { isFlexible, responseHeaderHasTags } from './api-keys.ts';
import { KafkaWriter } from './codec.ts';
import { SCHEMAS } from './messages.ts';
import { writeStruct, type Struct } from './schema.ts';

function framed(w: KafkaWriter): Buffer {
  const out = Buffer.from(w.finish());
  out.writeInt32BE(out.length - 4, 0);
  return out;
}

export function requestFrame(key: number, version: number, corr: number, clientId: string | null, body: Struct): Buffer {
  const w = new KafkaWriter().int32(0).int16(key).int16(version).int32(corr).string(clientId, false);
  const flex = isFlexible(key, version);
  if (flex) w.taggedFields();
  writeStruct(w, SCHEMAS.get(key)!.request, version, flex, body);
  return framed(w);
}

export function responseFrame(key: number, version: number, corr: number, body: Struct): Buffer {
  const w = new KafkaWriter().int32(0).int32(corr);
  if (responseHeaderHasTags(key, version)) w.taggedFields();
  writeStruct(w, SCHEMAS.get(key)!.response, version, isFlexible(key, version), body);
  return framed(w);
}

/** A v2 record batch holding `n` records of `size` bytes each (the header is what matters). */
export function recordBatch(n: number, size = 16): Buffer {
  const records = Buffer.alloc(n * size, 0x61);
  const b = Buffer.alloc(61);
  b.writeBigInt64BE(0n, 0);
  b.writeInt32BE(49 + records.length, 8); // batch length: from partition leader epoch to the end
  b[16] = 2; // magic
  b.writeInt32BE(n - 1, 23); // last offset delta
  b.writeInt32BE(n, 57);
  return Buffer.concat([b, records]);
}
