// Decoded Kafka bodies → the compact JSON summaries stored in kafka_events.req_body / resp:
// topics, partitions, record counts, error codes, offsets. Unknown APIs get their name only.
//
// The JSON text is written straight from the decoded fields (no summary objects, no
// JSON.stringify: that was ~27% of Kafka parsing). The text is what JSON.stringify gave for the
// former summary objects, byte for byte (pinned by conn/recorded.test.ts and summary.test.ts):
// a property whose value is undefined is left out, an undefined array element is null, and a
// summary over the cap is written again with every top-level array replaced by {"count":n}.
import { ApiKey, apiName } from './api-keys.ts';
import { countRecords } from './records.ts';
import type { Struct, Value } from './schema.ts';

function arr(v: Value | undefined): Struct[] {
  return Array.isArray(v) ? (v as Struct[]) : [];
}

function topicName(t: Struct): Value {
  return t.name ?? t.topic ?? t.topic_id ?? '';
}

function errorOf(s: Struct): Value {
  return s.error_code ?? 0;
}

/** A JSON string literal as JSON.stringify writes it (the common case without a scan's escape). */
function quote(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s);
  }
  return '"' + s + '"';
}

/**
 * Appends JSON text. `comma`: the next value in the current container needs a separator.
 * Counting mode (a summary over the cap): a top-level array becomes {"count":n} and what would
 * have been written inside it is dropped (`muted`), while the caller's loop still runs (Produce
 * and Fetch total their records over the partitions).
 */
class JsonText {
  s = '';
  private comma = false;
  private counting = false;
  private muted = false;

  reset(counting: boolean): void {
    this.s = '';
    this.comma = false;
    this.counting = counting;
    this.muted = false;
  }
  private sep(): void {
    if (this.comma) this.s += ',';
  }
  open(): void {
    if (this.muted) return;
    this.sep();
    this.s += '{';
    this.comma = false;
  }
  close(): void {
    if (this.muted) return;
    this.s += '}';
    this.comma = true;
  }
  openArr(): void {
    if (this.muted) return;
    this.sep();
    this.s += '[';
    this.comma = false;
  }
  closeArr(): void {
    if (this.muted) return;
    this.s += ']';
    this.comma = true;
  }
  key(k: string): void {
    if (this.muted) return;
    this.sep();
    this.s += '"' + k + '":';
    this.comma = false;
  }
  /** A value (undefined → null, as in an array). */
  val(v: Value | undefined): void {
    if (this.muted) return;
    this.sep();
    this.comma = true;
    if (typeof v === 'number') this.s += Number.isFinite(v) ? String(v) : 'null';
    else if (typeof v === 'string') this.s += quote(v);
    else if (v === null || v === undefined) this.s += 'null';
    else if (typeof v === 'boolean') this.s += v ? 'true' : 'false';
    else if (Array.isArray(v)) {
      this.s += '[';
      this.comma = false;
      for (let i = 0; i < v.length; i++) this.val(v[i]);
      this.s += ']';
      this.comma = true;
    } else this.s += JSON.stringify(v); // a Buffer or struct: not in any summary today
  }
  /** "k":v, left out when v is undefined. */
  prop(k: string, v: Value | undefined): void {
    if (this.muted || v === undefined) return;
    this.key(k);
    this.val(v);
  }
  /** A top-level property: an array value is {"count":n} when counting. */
  top(k: string, v: Value | undefined): void {
    if (this.counting && Array.isArray(v)) this.count(k, v.length);
    else this.prop(k, v);
  }
  private count(k: string, n: number): void {
    this.key(k);
    this.s += '{"count":' + n + '}';
    this.comma = true;
  }
  /** Opens a top-level array the caller fills (n elements); closeTopArr() after. */
  topArr(k: string, n: number): void {
    if (this.counting) {
      this.count(k, n);
      this.muted = true;
      return;
    }
    this.key(k);
    this.openArr();
  }
  closeTopArr(): void {
    if (this.counting) this.muted = false;
    else this.closeArr();
  }
  /** The summary's end: the truncation / summarised marks and the closing brace. */
  finish(truncated: boolean): string {
    if (truncated) this.prop('truncated', true);
    if (this.counting) this.prop('summarised', true);
    this.close();
    return this.s;
  }
}

const w = new JsonText();

/** Topics with the per-partition fields of `kind` (the request/response being summarised). */
const enum Part {
  produceReq, fetchReq, listOffsetsReq, offsetCommitReq,
  produceResp, fetchResp, listOffsetsResp, offsetCommitResp, offsetFetchResp,
}

/** Writes topics → [{name, partitions: [...]}]; returns the records counted (Produce, Fetch). */
function topics(list: Value | undefined, kind: Part, top: boolean): number {
  const ts = arr(list);
  let total = 0;
  if (top) w.topArr('topics', ts.length);
  else {
    w.key('topics');
    w.openArr();
  }
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    w.open();
    w.prop('name', topicName(t));
    const ps = arr(t.partitions);
    w.key('partitions');
    w.openArr();
    for (let j = 0; j < ps.length; j++) total += partition(ps[j]!, kind);
    w.closeArr();
    w.close();
  }
  if (top) w.closeTopArr();
  else w.closeArr();
  return total;
}

function partition(p: Struct, kind: Part): number {
  let records = 0;
  w.open();
  switch (kind) {
    case Part.produceReq: {
      const c = countRecords(p.records as Buffer | null);
      records = c.records;
      w.prop('p', p.index);
      w.prop('records', c.records);
      if (!c.complete) w.prop('partial', true);
      break;
    }
    case Part.fetchReq:
      w.prop('p', p.partition);
      w.prop('offset', p.fetch_offset);
      break;
    case Part.listOffsetsReq:
      w.prop('p', p.partition_index);
      w.prop('timestamp', p.timestamp);
      break;
    case Part.offsetCommitReq:
      w.prop('p', p.partition_index);
      w.prop('offset', p.committed_offset);
      break;
    case Part.produceResp:
      w.prop('p', p.index);
      w.prop('error', errorOf(p));
      w.prop('base_offset', p.base_offset);
      break;
    case Part.fetchResp: {
      const c = countRecords(p.records as Buffer | null);
      records = c.records;
      w.prop('p', p.partition_index);
      w.prop('error', errorOf(p));
      w.prop('high_watermark', p.high_watermark);
      w.prop('records', c.records);
      if (!c.complete) w.prop('partial', true);
      break;
    }
    case Part.listOffsetsResp:
      w.prop('p', p.partition_index);
      w.prop('error', errorOf(p));
      w.prop('offset', p.offset ?? arr(p.old_style_offsets)[0] ?? null);
      break;
    case Part.offsetCommitResp:
      w.prop('p', p.partition_index);
      w.prop('error', errorOf(p));
      break;
    case Part.offsetFetchResp:
      w.prop('p', p.partition_index);
      w.prop('offset', p.committed_offset);
      w.prop('error', errorOf(p));
      break;
  }
  w.close();
  return records;
}

/** A top-level array of one field of each element (names, member ids), undefined → null. */
function pluck(key: string, list: Value | undefined, field: string, orField?: string): void {
  const xs = arr(list);
  w.topArr(key, xs.length);
  for (let i = 0; i < xs.length; i++) w.val(orField === undefined ? xs[i]![field] : (xs[i]![field] ?? xs[i]![orField]));
  w.closeTopArr();
}

/** {name, partitions} of OffsetFetch request topics (null stays null). */
function fetchTopics(list: Value | undefined, top: boolean): void {
  if (list === null) return w.prop('topics', null);
  const ts = arr(list);
  if (top) w.topArr('topics', ts.length);
  else {
    w.key('topics');
    w.openArr();
  }
  for (let i = 0; i < ts.length; i++) {
    w.open();
    w.prop('name', ts[i]!.name);
    w.prop('partitions', ts[i]!.partition_indexes);
    w.close();
  }
  if (top) w.closeTopArr();
  else w.closeArr();
}

function writeRequest(key: number, version: number, b: Struct, truncated: boolean, counting: boolean): string {
  w.reset(counting);
  w.open();
  w.prop('api', apiName(key));
  w.prop('v', version);
  switch (key) {
    case ApiKey.produce:
      w.prop('acks', b.acks);
      if (b.transactional_id) w.prop('transactional_id', b.transactional_id);
      w.prop('records', topics(b.topics, Part.produceReq, true));
      break;
    case ApiKey.fetch:
      w.prop('max_wait_ms', b.max_wait_ms);
      if (b.session_id !== undefined) w.top('session', [b.session_id, b.session_epoch as Value]);
      topics(b.topics, Part.fetchReq, true);
      break;
    case ApiKey.listOffsets:
      topics(b.topics, Part.listOffsetsReq, true);
      break;
    case ApiKey.metadata:
      if (b.topics === null) w.prop('topics', null);
      else pluck('topics', b.topics, 'name', 'topic_id');
      break;
    case ApiKey.apiVersions:
      if (b.client_software_name !== undefined) w.prop('client', `${b.client_software_name as string}/${b.client_software_version as string}`);
      break;
    case ApiKey.findCoordinator:
      w.prop('key_type', b.key_type ?? 0);
      w.top('keys', b.coordinator_keys ?? [b.key as Value]);
      break;
    case ApiKey.joinGroup:
      w.prop('group', b.group_id);
      w.prop('member_id', b.member_id);
      w.prop('protocol_type', b.protocol_type);
      pluck('protocols', b.protocols, 'name');
      break;
    case ApiKey.syncGroup:
      w.prop('group', b.group_id);
      w.prop('generation_id', b.generation_id);
      w.prop('member_id', b.member_id);
      w.prop('assignments', arr(b.assignments).length);
      break;
    case ApiKey.heartbeat:
      w.prop('group', b.group_id);
      w.prop('generation_id', b.generation_id);
      w.prop('member_id', b.member_id);
      break;
    case ApiKey.leaveGroup:
      w.prop('group', b.group_id);
      if (b.members !== undefined) pluck('members', b.members, 'member_id');
      else w.top('members', [b.member_id as Value]);
      break;
    case ApiKey.offsetCommit:
      w.prop('group', b.group_id);
      if (b.generation_id !== undefined) w.prop('generation_id', b.generation_id);
      topics(b.topics, Part.offsetCommitReq, true);
      break;
    case ApiKey.offsetFetch:
      if (b.groups !== undefined) {
        const gs = arr(b.groups);
        w.topArr('groups', gs.length);
        for (let i = 0; i < gs.length; i++) {
          w.open();
          w.prop('group', gs[i]!.group_id);
          fetchTopics(gs[i]!.topics, false);
          w.close();
        }
        w.closeTopArr();
      } else {
        w.prop('group', b.group_id);
        fetchTopics(b.topics, true);
      }
      break;
  }
  return w.finish(truncated);
}

function writeResponse(key: number, b: Struct, truncated: boolean, counting: boolean): string {
  w.reset(counting);
  w.open();
  switch (key) {
    case ApiKey.produce:
      topics(b.topics, Part.produceResp, true);
      break;
    case ApiKey.fetch: {
      if (b.error_code !== undefined) w.prop('error', b.error_code);
      w.prop('records', topics(b.topics, Part.fetchResp, true));
      break;
    }
    case ApiKey.listOffsets:
      topics(b.topics, Part.listOffsetsResp, true);
      break;
    case ApiKey.metadata: {
      w.prop('brokers', arr(b.brokers).length);
      const ts = arr(b.topics);
      w.topArr('topics', ts.length);
      for (let i = 0; i < ts.length; i++) {
        w.open();
        w.prop('name', ts[i]!.name);
        w.prop('error', errorOf(ts[i]!));
        w.prop('partitions', arr(ts[i]!.partitions).length);
        w.close();
      }
      w.closeTopArr();
      break;
    }
    case ApiKey.apiVersions:
      w.prop('error', errorOf(b));
      w.prop('api_keys', arr(b.api_keys).length);
      break;
    case ApiKey.findCoordinator:
      if (b.coordinators !== undefined) {
        const cs = arr(b.coordinators);
        w.topArr('coordinators', cs.length);
        for (let i = 0; i < cs.length; i++) {
          w.open();
          w.prop('key', cs[i]!.key);
          w.prop('error', errorOf(cs[i]!));
          w.prop('node_id', cs[i]!.node_id);
          w.close();
        }
        w.closeTopArr();
      } else {
        w.prop('error', errorOf(b));
        w.prop('node_id', b.node_id);
        w.prop('host', b.host);
        w.prop('port', b.port);
      }
      break;
    case ApiKey.joinGroup:
      w.prop('error', errorOf(b));
      w.prop('generation_id', b.generation_id);
      w.prop('protocol', b.protocol_name);
      w.prop('leader', b.leader);
      w.prop('member_id', b.member_id);
      w.prop('members', arr(b.members).length);
      break;
    case ApiKey.syncGroup:
    case ApiKey.heartbeat:
    case ApiKey.leaveGroup:
      w.prop('error', errorOf(b));
      break;
    case ApiKey.offsetCommit:
      topics(b.topics, Part.offsetCommitResp, true);
      break;
    case ApiKey.offsetFetch:
      if (b.groups !== undefined) {
        const gs = arr(b.groups);
        w.topArr('groups', gs.length);
        for (let i = 0; i < gs.length; i++) {
          w.open();
          w.prop('group', gs[i]!.group_id);
          w.prop('error', errorOf(gs[i]!));
          topics(gs[i]!.topics, Part.offsetFetchResp, false);
          w.close();
        }
        w.closeTopArr();
      } else {
        w.prop('error', errorOf(b));
        topics(b.topics, Part.offsetFetchResp, true);
      }
      break;
  }
  return w.finish(truncated);
}

/** The request summary's JSON text, within `cap` characters (per-topic detail becomes counts). */
export function requestSummary(key: number, version: number, b: Struct, truncated: boolean, cap: number): string {
  const s = writeRequest(key, version, b, truncated, false);
  if (s.length <= cap) return s;
  const t = writeRequest(key, version, b, truncated, true);
  return t.length <= cap ? t : `{"api":${quote(apiName(key))},"summarised":true}`;
}

/** The response summary's JSON text (no `api`), within `cap` characters. */
export function responseSummary(key: number, b: Struct, truncated: boolean, cap: number): string {
  const s = writeResponse(key, b, truncated, false);
  if (s.length <= cap) return s;
  const t = writeResponse(key, b, truncated, true);
  return t.length <= cap ? t : '{"summarised":true}';
}
