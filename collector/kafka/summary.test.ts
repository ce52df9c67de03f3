// The summaries' JSON text, written directly from the decoded fields, is what JSON.stringify gave
// for the summary objects it replaced (expected strings below were produced by that code):
// escaping, undefined fields left out / null in arrays, partial record sets, the cap's counting
// form and its last fallback.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Struct } from './schema.ts';
import { requestSummary, responseSummary } from './summary.ts';
import { recordBatch } from './testing.ts';

const produce = {
  acks: -1, transactional_id: 'tx"1',
  topics: [
    { name: 'or\\ders', partitions: [{ index: 0, records: Buffer.concat([recordBatch(3), recordBatch(2)]) }, { index: 1, records: recordBatch(4).subarray(0, 70) }] },
    { name: 'b\u0001', partitions: [] },
  ],
} as unknown as Struct;

test('request summaries: escaping, partial record counts, undefined → left out / null', () => {
  assert.equal(requestSummary(0, 7, produce, false, 4096),
    '{"api":"Produce","v":7,"acks":-1,"transactional_id":"tx\\"1","topics":[{"name":"or\\\\ders","partitions":[{"p":0,"records":5},{"p":1,"records":4,"partial":true}]},{"name":"b\\u0001","partitions":[]}],"records":9}');
  assert.equal(requestSummary(1, 11, { max_wait_ms: 500, session_id: 3, topics: [{ topic: 'orders', partitions: [{ partition: 0, fetch_offset: 9 }] }] }, true, 4096),
    '{"api":"Fetch","v":11,"max_wait_ms":500,"session":[3,null],"topics":[{"name":"orders","partitions":[{"p":0,"offset":9}]}],"truncated":true}');
  assert.equal(requestSummary(10, 4, { coordinator_keys: ['g1', 'g2'] }, false, 4096), '{"api":"FindCoordinator","v":4,"key_type":0,"keys":["g1","g2"]}');
  assert.equal(requestSummary(10, 1, { key: 'g1' }, false, 4096), '{"api":"FindCoordinator","v":1,"key_type":0,"keys":["g1"]}');
  assert.equal(requestSummary(3, 12, { topics: [{ topic_id: 'abc' }, { name: 'n' }] }, false, 4096), '{"api":"Metadata","v":12,"topics":["abc","n"]}');
  assert.equal(requestSummary(9, 8, { groups: [{ group_id: 'g', topics: null }, { group_id: 'h', topics: [{ name: 't', partition_indexes: [0, 1] }] }] }, false, 4096),
    '{"api":"OffsetFetch","v":8,"groups":[{"group":"g","topics":null},{"group":"h","topics":[{"name":"t","partitions":[0,1]}]}]}');
  assert.equal(requestSummary(60, 0, {}, false, 4096), '{"api":"DescribeCluster","v":0}');
});

test('response summaries: ListOffsets v0 offsets, unknown fields', () => {
  assert.equal(responseSummary(2, { topics: [{ name: 't', partitions: [{ partition_index: 1, error_code: 0, old_style_offsets: [5, 4] }, { partition_index: 2 }] }] }, false, 4096),
    '{"topics":[{"name":"t","partitions":[{"p":1,"error":0,"offset":5},{"p":2,"error":0,"offset":null}]}]}');
});

test('over the cap: top-level arrays become counts (totals still counted), then the name only', () => {
  assert.equal(requestSummary(0, 7, produce, true, 150),
    '{"api":"Produce","v":7,"acks":-1,"transactional_id":"tx\\"1","topics":{"count":2},"records":9,"truncated":true,"summarised":true}');
  // The counting form (session and topics as counts) is longer here: the name only.
  const fetch = { max_wait_ms: 500, session_id: 3, topics: [] };
  assert.equal(requestSummary(1, 11, fetch, false, 71), '{"api":"Fetch","v":11,"max_wait_ms":500,"session":[3,null],"topics":[]}');
  assert.equal(requestSummary(1, 11, fetch, false, 70), '{"api":"Fetch","summarised":true}');
  assert.equal(requestSummary(0, 7, produce, false, 20), '{"api":"Produce","summarised":true}');
  assert.equal(responseSummary(0, { topics: [{ name: 'orders', partitions: [{ index: 0, error_code: 0, base_offset: 7 }] }] }, false, 45),
    '{"topics":{"count":1},"summarised":true}');
  assert.equal(responseSummary(0, { topics: [{ name: 'orders', partitions: [] }] }, false, 10), '{"summarised":true}');
});
