// A tiny message-schema language for Kafka bodies, mirroring the spec's JSON message definitions:
// fields with version ranges, nested arrays of structs, and the flexible-version rules (compact
// strings/arrays/bytes, tagged fields after every struct). One schema drives both decoding (the
// parser) and encoding (the test broker), so the broker's correctness under real clients
// (librdkafka, kafkajs) also vouches for the parser's schemas.
import { KafkaReader, KafkaWriter, TRUNCATED } from './codec.ts';

export type Prim =
  | 'int8' | 'int16' | 'int32' | 'int64' | 'float64' | 'uuid' | 'bool'
  | 'string' | 'nstring' | 'bytes' | 'nbytes' | 'records';

export interface ArrayType {
  array: Prim | Field[];
  /** Null (length −1) allowed from this version on. */
  nullableFrom?: number;
}

export type FieldType = Prim | ArrayType;

/** [name, type, first version, last version] */
export type Field = readonly [string, FieldType, number?, number?];

export type Value = number | string | boolean | Buffer | null | Value[] | Struct;
export interface Struct {
  [name: string]: Value;
}

function inRange(f: Field, v: number): boolean {
  return v >= (f[2] ?? 0) && v <= (f[3] ?? Infinity);
}

/**
 * Decodes a struct. When the bytes end early (reader.truncated), the fields read so far are kept
 * (the reader throws TRUNCATED; the partly built objects stay reachable from the outermost one).
 */
export function decode(r: KafkaReader, fields: readonly Field[], version: number, flex: boolean): Struct {
  const out: Struct = {};
  try {
    decoderFor(fields, version, flex)(r, out);
  } catch (err) {
    if (err !== TRUNCATED) throw err;
  }
  return out;
}

type Decoder = (r: KafkaReader, out: Struct) => void;

const decoders = new WeakMap<readonly Field[], Map<number, Decoder>>();

/**
 * A decoder compiled for one schema at one version: the fields of that version in order, each a
 * named store (o["acks"] = r.int16()). Interpreting the schema per message (a version check per
 * field, keyed stores of changing names into fresh objects) was ~15% of Kafka parse time.
 * The semantics are the interpreter's: fields in order, an array stored before it is filled.
 */
function decoderFor(fields: readonly Field[], version: number, flex: boolean): Decoder {
  let byVersion = decoders.get(fields);
  if (byVersion === undefined) decoders.set(fields, (byVersion = new Map()));
  const k = version * 2 + (flex ? 1 : 0);
  let d = byVersion.get(k);
  if (d === undefined) byVersion.set(k, (d = compile(fields, version, flex)));
  return d;
}

function primExpr(t: Prim, flex: boolean): string {
  switch (t) {
    case 'int8': case 'int16': case 'int32': case 'int64': case 'float64': case 'uuid': case 'bool':
      return `r.${t}()`;
    case 'string': case 'nstring': return `r.string(${flex})`;
    case 'bytes': case 'nbytes': case 'records': return `r.bytes(${flex})`;
  }
}

function compile(fields: readonly Field[], version: number, flex: boolean): Decoder {
  const fns: string[] = [];
  const struct = (fs: readonly Field[]): string => {
    const name = `s${fns.length}`;
    fns.push('');
    let body = '';
    for (const f of fs) {
      if (!inRange(f, version)) continue;
      const key = JSON.stringify(f[0]);
      const t = f[1];
      if (typeof t === 'string') {
        body += `o[${key}] = ${primExpr(t, flex)};\n`;
        continue;
      }
      const el = typeof t.array === 'string' ? primExpr(t.array, flex) : null;
      const sub = typeof t.array === 'string' ? '' : struct(t.array);
      body += `{ const n = r.count(${flex}); if (n < 0) o[${key}] = null; else { const a = []; o[${key}] = a; ` +
        (el !== null ? `for (let k = 0; k < n; k++) a.push(${el}); } }\n`
          : `for (let k = 0; k < n; k++) { const it = {}; a.push(it); ${sub}(r, it); } } }\n`);
    }
    if (flex) body += 'r.taggedFields();\n';
    fns[Number(name.slice(1))] = `function ${name}(r, o) {\n${body}}\n`;
    return name;
  };
  struct(fields);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- schemas are module constants, not input
  return new Function(`${fns.join('')}return s0;`)() as Decoder;
}

function writePrim(w: KafkaWriter, t: Prim, flex: boolean, v: Value | undefined): void {
  switch (t) {
    case 'int8': w.int8((v as number) ?? 0); return;
    case 'int16': w.int16((v as number) ?? 0); return;
    case 'int32': w.int32((v as number) ?? 0); return;
    case 'int64': w.int64((v as number) ?? 0); return;
    case 'float64': w.float64((v as number) ?? 0); return;
    case 'uuid': w.uuid((v as string) ?? ''); return;
    case 'bool': w.bool(Boolean(v)); return;
    case 'string': w.string((v as string | null | undefined) ?? '', flex); return;
    case 'nstring': w.string((v as string | null | undefined) ?? null, flex); return;
    case 'bytes': w.bytes((v as Buffer | null | undefined) ?? Buffer.alloc(0), flex); return;
    case 'nbytes':
    case 'records': w.bytes((v as Buffer | null | undefined) ?? null, flex); return;
  }
}

/** Encodes a struct; missing fields get zero values (empty arrays, '' / null strings). */
export function writeStruct(w: KafkaWriter, fields: readonly Field[], version: number, flex: boolean, s: Struct): void {
  for (const f of fields) {
    if (!inRange(f, version)) continue;
    const t = f[1];
    const v = s[f[0]];
    if (typeof t === 'string') {
      writePrim(w, t, flex, v);
      continue;
    }
    if (v === null && t.nullableFrom !== undefined && version >= t.nullableFrom) {
      w.length(-1, flex, true);
      continue;
    }
    const items = (v as Value[] | undefined) ?? [];
    w.length(items.length, flex, true);
    for (const item of items) {
      if (typeof t.array === 'string') writePrim(w, t.array, flex, item);
      else writeStruct(w, t.array, version, flex, item as Struct);
    }
  }
  if (flex) w.taggedFields();
}
