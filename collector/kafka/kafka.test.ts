import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionTracker } from '../conn/tracker.ts';
import type { SocketEvent } from '../events.ts';
import { TableSink } from '../mysql/testing.ts';
import { ConnScript, endpoint } from '../synth/conn-script.ts';
import { API_NAMES, ApiKey } from './api-keys.ts';
import { countRecords } from './records.ts';
import { recordBatch, requestFrame, responseFrame } from './testing.ts';

function setup() {
  const sink = new TableSink();
  const tracker = new ConnectionTracker(sink);
  const c = new ConnScript(endpoint({ localPort: 9092 }));
  let t = 1000n;
  tracker.handleBatch([c.open(t)]);
  return {
    tracker,
    /** Server side: requests received, responses sent. */
    req(b: Buffer, cap = Infinity): SocketEvent { return c.recv(b, (t += 10n), cap); },
    resp(b: Buffer, cap = Infinity): SocketEvent { return c.send(b, (t += 10n), cap); },
    get rows() { return sink.rowsOf('kafka_events'); },
  };
}

const produceBody = (acks: number) => ({
  acks, timeout_ms: 1000, transactional_id: null,
  topics: [{ name: 'orders', partitions: [{ index: 0, records: Buffer.concat([recordBatch(3), recordBatch(2)]) }, { index: 1, records: recordBatch(1) }] }],
});

test('Produce v7 with record counts; response offsets; latency; client id', () => {
  const s = setup();
  s.tracker.handleBatch([s.req(requestFrame(ApiKey.produce, 7, 11, 'app-1', produceBody(-1)))]);
  s.tracker.handleBatch([s.resp(responseFrame(ApiKey.produce, 7, 11, {
    topics: [{ name: 'orders', partitions: [{ index: 0, error_code: 0, base_offset: 40 }, { index: 1, error_code: 6, base_offset: -1 }] }],
  }))]);
  s.tracker.flushAll();
  assert.equal(s.rows.length, 1);
  const r = s.rows[0]!;
  assert.equal(r.reqCmd, 0);
  assert.equal(r.clientId, 'app-1');
  assert.deepEqual(JSON.parse(r.reqBody), {
    api: 'Produce', v: 7, acks: -1, records: 6,
    topics: [{ name: 'orders', partitions: [{ p: 0, records: 5 }, { p: 1, records: 1 }] }],
  });
  assert.deepEqual(JSON.parse(r.resp), { topics: [{ name: 'orders', partitions: [{ p: 0, error: 0, base_offset: 40 }, { p: 1, error: 6, base_offset: -1 }] }] });
  assert.equal(r.latencyNs, 10n);
  assert.equal(r.traceRole, 2);
});

test('flexible versions: Metadata v9 (header v2, compact arrays, tagged fields), ApiVersions v3 (response header v0)', () => {
  const s = setup();
  s.tracker.handleBatch([
    s.req(requestFrame(ApiKey.apiVersions, 3, 1, 'rdkafka', { client_software_name: 'librdkafka', client_software_version: '2.0.2' })),
    s.resp(responseFrame(ApiKey.apiVersions, 3, 1, { error_code: 0, api_keys: [{ api_key: 0, min_version: 0, max_version: 9 }, { api_key: 1, min_version: 0, max_version: 12 }] })),
    s.req(requestFrame(ApiKey.metadata, 9, 2, 'rdkafka', { topics: [{ name: 'a' }, { name: 'b' }], allow_auto_topic_creation: true })),
    s.resp(responseFrame(ApiKey.metadata, 9, 2, {
      brokers: [{ node_id: 1, host: 'h', port: 9092, rack: null }], cluster_id: 'c', controller_id: 1,
      topics: [{ error_code: 0, name: 'a', partitions: [{ partition_index: 0, replica_nodes: [1], isr_nodes: [1] }] }, { error_code: 3, name: 'b', partitions: [] }],
    })),
  ]);
  s.tracker.flushAll();
  assert.deepEqual(s.rows.map((r) => [r.reqCmd, JSON.parse(r.reqBody), JSON.parse(r.resp)]), [
    [18, { api: 'ApiVersions', v: 3, client: 'librdkafka/2.0.2' }, { error: 0, api_keys: 2 }],
    [3, { api: 'Metadata', v: 9, topics: ['a', 'b'] }, { brokers: 1, topics: [{ name: 'a', error: 0, partitions: 1 }, { name: 'b', error: 3, partitions: 0 }] }],
  ]);
  assert.equal(s.tracker.stats.parseFailures, 0);
});

test('responses out of order pair by correlation id; acks=0 gets a row without response; a lost one expires', () => {
  const s = setup();
  s.tracker.handleBatch([
    s.req(requestFrame(ApiKey.heartbeat, 3, 21, 'c', { group_id: 'g', generation_id: 4, member_id: 'm1' })),
    s.req(requestFrame(ApiKey.offsetCommit, 7, 22, 'c', { group_id: 'g', generation_id: 4, member_id: 'm1', topics: [{ name: 't', partitions: [{ partition_index: 0, committed_offset: 17 }] }] })),
    s.req(requestFrame(ApiKey.produce, 7, 23, 'c', produceBody(0))),
    s.req(requestFrame(ApiKey.fetch, 11, 24, 'c', { max_wait_ms: 500, topics: [{ topic: 't', partitions: [{ partition: 0, fetch_offset: 17 }] }] })),
    s.resp(responseFrame(ApiKey.offsetCommit, 7, 22, { topics: [{ name: 't', partitions: [{ partition_index: 0, error_code: 0 }] }] })),
    s.resp(responseFrame(ApiKey.heartbeat, 3, 21, { error_code: 27 })),
  ]);
  s.tracker.tick(1000n + 31_000_000_000n);
  s.tracker.flushAll();
  const rows = s.rows.map((r) => [JSON.parse(r.reqBody).api, r.resp === '' ? '' : JSON.parse(r.resp)]);
  assert.deepEqual(rows, [
    ['Produce', ''],
    ['OffsetCommit', { topics: [{ name: 't', partitions: [{ p: 0, error: 0 }] }] }],
    ['Heartbeat', { error: 27 }],
  ]);
  assert.equal(s.rows[0]!.latencyNs, 0n);
  assert.equal(s.tracker.stats.expiredRequests, 1, 'the Fetch never answered');
});

test('a large Produce cut by the capture cap: counted from the captured prefix, marked partial', () => {
  const s = setup();
  const body = { acks: 1, timeout_ms: 1000, topics: [{ name: 'big', partitions: [{ index: 0, records: Buffer.concat([recordBatch(10, 1000), recordBatch(10, 1000), recordBatch(10, 1000)]) }] }] };
  const frame = requestFrame(ApiKey.produce, 8, 5, 'p', body);
  s.tracker.handleBatch([s.req(frame, 16384), s.resp(responseFrame(ApiKey.produce, 8, 5, { topics: [{ name: 'big', partitions: [{ index: 0, base_offset: 0 }] }] }))]);
  s.tracker.flushAll();
  assert.equal(s.rows.length, 1);
  const req = JSON.parse(s.rows[0]!.reqBody);
  assert.equal(req.truncated, true);
  assert.deepEqual(req.topics[0].partitions[0], { p: 0, records: 20, partial: true });
  assert.equal(s.tracker.stats.parseFailures, 0);
});

test('group APIs: FindCoordinator v3, JoinGroup v5, SyncGroup v3, OffsetFetch v6 (flexible), ListOffsets v2', () => {
  const s = setup();
  s.tracker.handleBatch([
    s.req(requestFrame(ApiKey.findCoordinator, 3, 1, 'c', { key: 'g', key_type: 0 })),
    s.resp(responseFrame(ApiKey.findCoordinator, 3, 1, { error_code: 0, node_id: 1, host: 'h', port: 9092 })),
    s.req(requestFrame(ApiKey.joinGroup, 5, 2, 'c', { group_id: 'g', session_timeout_ms: 1, rebalance_timeout_ms: 1, member_id: '', protocol_type: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from([1]) }] })),
    s.resp(responseFrame(ApiKey.joinGroup, 5, 2, { error_code: 0, generation_id: 1, protocol_name: 'range', leader: 'm', member_id: 'm', members: [{ member_id: 'm', metadata: Buffer.from([1]) }] })),
    s.req(requestFrame(ApiKey.syncGroup, 3, 3, 'c', { group_id: 'g', generation_id: 1, member_id: 'm', assignments: [{ member_id: 'm', assignment: Buffer.from([2]) }] })),
    s.resp(responseFrame(ApiKey.syncGroup, 3, 3, { error_code: 0, assignment: Buffer.from([2]) })),
    s.req(requestFrame(ApiKey.offsetFetch, 6, 4, 'c', { group_id: 'g', topics: [{ name: 't', partition_indexes: [0, 1] }] })),
    s.resp(responseFrame(ApiKey.offsetFetch, 6, 4, { topics: [{ name: 't', partitions: [{ partition_index: 0, committed_offset: 5, metadata: '' }, { partition_index: 1, committed_offset: -1, metadata: null }] }] })),
    s.req(requestFrame(ApiKey.listOffsets, 2, 5, 'c', { replica_id: -1, topics: [{ name: 't', partitions: [{ partition_index: 0, timestamp: -1 }] }] })),
    s.resp(responseFrame(ApiKey.listOffsets, 2, 5, { topics: [{ name: 't', partitions: [{ partition_index: 0, error_code: 0, timestamp: -1, offset: 99 }] }] })),
  ]);
  s.tracker.flushAll();
  assert.deepEqual(s.rows.map((r) => JSON.parse(r.resp)), [
    { error: 0, node_id: 1, host: 'h', port: 9092 },
    { error: 0, generation_id: 1, protocol: 'range', leader: 'm', member_id: 'm', members: 1 },
    { error: 0 },
    { error: 0, topics: [{ name: 't', partitions: [{ p: 0, offset: 5, error: 0 }, { p: 1, offset: -1, error: 0 }] }] },
    { topics: [{ name: 't', partitions: [{ p: 0, error: 0, offset: 99 }] }] },
  ]);
  assert.deepEqual(JSON.parse(s.rows[1]!.reqBody), { api: 'JoinGroup', v: 5, group: 'g', member_id: '', protocol_type: 'consumer', protocols: ['range'] });
});

test('every API key up to 87 is named; records are counted across batches', () => {
  assert.equal(API_NAMES.length, 88);
  assert.equal(API_NAMES[18], 'ApiVersions');
  assert.equal(API_NAMES[68], 'ConsumerGroupHeartbeat');
  assert.deepEqual(countRecords(Buffer.concat([recordBatch(4), recordBatch(5)])), { records: 9, batches: 2, complete: true });
});
