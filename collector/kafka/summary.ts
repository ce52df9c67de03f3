// Decoded Kafka bodies → the compact JSON summaries stored in kafka_events.req_body / resp:
// topics, partitions, record counts, error codes, offsets. Unknown APIs get their name only.
import { ApiKey, apiName } from './api-keys.ts';
import { countRecords } from './records.ts';
import type { Struct, Value } from './schema.ts';

type Json = Record<string, unknown>;

function arr(v: Value | undefined): Struct[] {
  return Array.isArray(v) ? (v as Struct[]) : [];
}

function topicName(t: Struct): string {
  return (t.name ?? t.topic ?? t.topic_id ?? '') as string;
}

/** topics → [{ name, partitions: [...pick(partition)] }] */
function topics(list: Value | undefined, pick: (p: Struct) => Json, parts = 'partitions'): Json[] {
  return arr(list).map((t) => ({ name: topicName(t), partitions: arr(t[parts]).map(pick) }));
}

function errorOf(s: Struct): number {
  return (s.error_code ?? 0) as number;
}

export function requestSummary(key: number, version: number, b: Struct, truncated: boolean): Json {
  const out: Json = { api: apiName(key), v: version };
  switch (key) {
    case ApiKey.produce: {
      out.acks = b.acks;
      if (b.transactional_id) out.transactional_id = b.transactional_id;
      let total = 0;
      out.topics = topics(b.topics, (p) => {
        const c = countRecords(p.records as Buffer | null);
        total += c.records;
        return c.complete ? { p: p.index, records: c.records } : { p: p.index, records: c.records, partial: true };
      });
      out.records = total;
      break;
    }
    case ApiKey.fetch:
      out.max_wait_ms = b.max_wait_ms;
      if (b.session_id !== undefined) out.session = [b.session_id, b.session_epoch];
      out.topics = topics(b.topics, (p) => ({ p: p.partition, offset: p.fetch_offset }));
      break;
    case ApiKey.listOffsets:
      out.topics = topics(b.topics, (p) => ({ p: p.partition_index, timestamp: p.timestamp }));
      break;
    case ApiKey.metadata:
      out.topics = b.topics === null ? null : arr(b.topics).map((t) => t.name ?? t.topic_id);
      break;
    case ApiKey.apiVersions:
      if (b.client_software_name !== undefined) out.client = `${b.client_software_name as string}/${b.client_software_version as string}`;
      break;
    case ApiKey.findCoordinator:
      out.key_type = b.key_type ?? 0;
      out.keys = b.coordinator_keys ?? [b.key];
      break;
    case ApiKey.joinGroup:
      out.group = b.group_id;
      out.member_id = b.member_id;
      out.protocol_type = b.protocol_type;
      out.protocols = arr(b.protocols).map((p) => p.name);
      break;
    case ApiKey.syncGroup:
      out.group = b.group_id;
      out.generation_id = b.generation_id;
      out.member_id = b.member_id;
      out.assignments = arr(b.assignments).length;
      break;
    case ApiKey.heartbeat:
      out.group = b.group_id;
      out.generation_id = b.generation_id;
      out.member_id = b.member_id;
      break;
    case ApiKey.leaveGroup:
      out.group = b.group_id;
      out.members = b.members !== undefined ? arr(b.members).map((m) => m.member_id) : [b.member_id];
      break;
    case ApiKey.offsetCommit:
      out.group = b.group_id;
      if (b.generation_id !== undefined) out.generation_id = b.generation_id;
      out.topics = topics(b.topics, (p) => ({ p: p.partition_index, offset: p.committed_offset }));
      break;
    case ApiKey.offsetFetch:
      if (b.groups !== undefined) {
        out.groups = arr(b.groups).map((g) => ({
          group: g.group_id,
          topics: g.topics === null ? null : arr(g.topics).map((t) => ({ name: t.name, partitions: t.partition_indexes })),
        }));
      } else {
        out.group = b.group_id;
        out.topics = b.topics === null ? null : arr(b.topics).map((t) => ({ name: t.name, partitions: t.partition_indexes }));
      }
      break;
  }
  if (truncated) out.truncated = true;
  return out;
}

export function responseSummary(key: number, b: Struct, truncated: boolean): Json {
  const out: Json = {};
  switch (key) {
    case ApiKey.produce:
      out.topics = topics(b.topics, (p) => ({ p: p.index, error: errorOf(p), base_offset: p.base_offset }));
      break;
    case ApiKey.fetch: {
      if (b.error_code !== undefined) out.error = b.error_code;
      let total = 0;
      out.topics = topics(b.topics, (p) => {
        const c = countRecords(p.records as Buffer | null);
        total += c.records;
        const r: Json = { p: p.partition_index, error: errorOf(p), high_watermark: p.high_watermark, records: c.records };
        if (!c.complete) r.partial = true;
        return r;
      });
      out.records = total;
      break;
    }
    case ApiKey.listOffsets:
      out.topics = topics(b.topics, (p) => ({
        p: p.partition_index, error: errorOf(p), offset: p.offset ?? arr(p.old_style_offsets)[0] ?? null,
      }));
      break;
    case ApiKey.metadata:
      out.brokers = arr(b.brokers).length;
      out.topics = arr(b.topics).map((t) => ({ name: t.name, error: errorOf(t), partitions: arr(t.partitions).length }));
      break;
    case ApiKey.apiVersions:
      out.error = errorOf(b);
      out.api_keys = arr(b.api_keys).length;
      break;
    case ApiKey.findCoordinator:
      if (b.coordinators !== undefined) {
        out.coordinators = arr(b.coordinators).map((c) => ({ key: c.key, error: errorOf(c), node_id: c.node_id }));
      } else {
        out.error = errorOf(b);
        out.node_id = b.node_id;
        out.host = b.host;
        out.port = b.port;
      }
      break;
    case ApiKey.joinGroup:
      out.error = errorOf(b);
      out.generation_id = b.generation_id;
      out.protocol = b.protocol_name;
      out.leader = b.leader;
      out.member_id = b.member_id;
      out.members = arr(b.members).length;
      break;
    case ApiKey.syncGroup:
    case ApiKey.heartbeat:
    case ApiKey.leaveGroup:
      out.error = errorOf(b);
      break;
    case ApiKey.offsetCommit:
      out.topics = topics(b.topics, (p) => ({ p: p.partition_index, error: errorOf(p) }));
      break;
    case ApiKey.offsetFetch: {
      const pick = (p: Struct): Json => ({ p: p.partition_index, offset: p.committed_offset, error: errorOf(p) });
      if (b.groups !== undefined) {
        out.groups = arr(b.groups).map((g) => ({ group: g.group_id, error: errorOf(g), topics: topics(g.topics, pick) }));
      } else {
        out.error = errorOf(b);
        out.topics = topics(b.topics, pick);
      }
      break;
    }
  }
  if (truncated) out.truncated = true;
  return out;
}
