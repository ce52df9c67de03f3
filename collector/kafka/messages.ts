// Request and response bodies of the APIs wiretap summarises, per the Kafka protocol spec
// (message definitions: fields and the versions that carry them).
import { ApiKey } from './api-keys.ts';
import type { Field } from './schema.ts';

const produceRequest: Field[] = [
  ['transactional_id', 'nstring', 3],
  ['acks', 'int16'],
  ['timeout_ms', 'int32'],
  ['topics', { array: [
    ['name', 'string', 0, 12],
    ['topic_id', 'uuid', 13],
    ['partitions', { array: [['index', 'int32'], ['records', 'records']] }],
  ] }],
];
const produceResponse: Field[] = [
  ['topics', { array: [
    ['name', 'string', 0, 12],
    ['topic_id', 'uuid', 13],
    ['partitions', { array: [
      ['index', 'int32'],
      ['error_code', 'int16'],
      ['base_offset', 'int64'],
      ['log_append_time_ms', 'int64', 2],
      ['log_start_offset', 'int64', 5],
      ['record_errors', { array: [['batch_index', 'int32'], ['message', 'nstring']] }, 8],
      ['error_message', 'nstring', 8],
    ] }],
  ] }],
  ['throttle_time_ms', 'int32', 1],
];

const fetchRequest: Field[] = [
  ['replica_id', 'int32', 0, 14],
  ['max_wait_ms', 'int32'],
  ['min_bytes', 'int32'],
  ['max_bytes', 'int32', 3],
  ['isolation_level', 'int8', 4],
  ['session_id', 'int32', 7],
  ['session_epoch', 'int32', 7],
  ['topics', { array: [
    ['topic', 'string', 0, 12],
    ['topic_id', 'uuid', 13],
    ['partitions', { array: [
      ['partition', 'int32'],
      ['current_leader_epoch', 'int32', 9],
      ['fetch_offset', 'int64'],
      ['last_fetched_epoch', 'int32', 12],
      ['log_start_offset', 'int64', 5],
      ['partition_max_bytes', 'int32'],
    ] }],
  ] }],
  ['forgotten_topics_data', { array: [
    ['topic', 'string', 7, 12],
    ['topic_id', 'uuid', 13],
    ['partitions', { array: 'int32' }],
  ] }, 7],
  ['rack_id', 'string', 11],
];
const fetchResponse: Field[] = [
  ['throttle_time_ms', 'int32', 1],
  ['error_code', 'int16', 7],
  ['session_id', 'int32', 7],
  ['topics', { array: [
    ['topic', 'string', 0, 12],
    ['topic_id', 'uuid', 13],
    ['partitions', { array: [
      ['partition_index', 'int32'],
      ['error_code', 'int16'],
      ['high_watermark', 'int64'],
      ['last_stable_offset', 'int64', 4],
      ['log_start_offset', 'int64', 5],
      ['aborted_transactions', { array: [['producer_id', 'int64'], ['first_offset', 'int64']], nullableFrom: 4 }, 4],
      ['preferred_read_replica', 'int32', 11],
      ['records', 'records'],
    ] }],
  ] }],
];

const listOffsetsRequest: Field[] = [
  ['replica_id', 'int32'],
  ['isolation_level', 'int8', 2],
  ['topics', { array: [
    ['name', 'string'],
    ['partitions', { array: [
      ['partition_index', 'int32'],
      ['current_leader_epoch', 'int32', 4],
      ['timestamp', 'int64'],
      ['max_num_offsets', 'int32', 0, 0],
    ] }],
  ] }],
];
const listOffsetsResponse: Field[] = [
  ['throttle_time_ms', 'int32', 2],
  ['topics', { array: [
    ['name', 'string'],
    ['partitions', { array: [
      ['partition_index', 'int32'],
      ['error_code', 'int16'],
      ['old_style_offsets', { array: 'int64' }, 0, 0],
      ['timestamp', 'int64', 1],
      ['offset', 'int64', 1],
      ['leader_epoch', 'int32', 4],
    ] }],
  ] }],
];

const metadataRequest: Field[] = [
  ['topics', { array: [['topic_id', 'uuid', 10], ['name', 'nstring']], nullableFrom: 1 }],
  ['allow_auto_topic_creation', 'bool', 4],
  ['include_cluster_authorized_operations', 'bool', 8, 10],
  ['include_topic_authorized_operations', 'bool', 8],
];
const metadataResponse: Field[] = [
  ['throttle_time_ms', 'int32', 3],
  ['brokers', { array: [['node_id', 'int32'], ['host', 'string'], ['port', 'int32'], ['rack', 'nstring', 1]] }],
  ['cluster_id', 'nstring', 2],
  ['controller_id', 'int32', 1],
  ['topics', { array: [
    ['error_code', 'int16'],
    ['name', 'nstring'],
    ['topic_id', 'uuid', 10],
    ['is_internal', 'bool', 1],
    ['partitions', { array: [
      ['error_code', 'int16'],
      ['partition_index', 'int32'],
      ['leader_id', 'int32'],
      ['leader_epoch', 'int32', 7],
      ['replica_nodes', { array: 'int32' }],
      ['isr_nodes', { array: 'int32' }],
      ['offline_replicas', { array: 'int32' }, 5],
    ] }],
    ['topic_authorized_operations', 'int32', 8],
  ] }],
  ['cluster_authorized_operations', 'int32', 8, 10],
];

const apiVersionsRequest: Field[] = [
  ['client_software_name', 'string', 3],
  ['client_software_version', 'string', 3],
];
const apiVersionsResponse: Field[] = [
  ['error_code', 'int16'],
  ['api_keys', { array: [['api_key', 'int16'], ['min_version', 'int16'], ['max_version', 'int16']] }],
  ['throttle_time_ms', 'int32', 1],
];

const findCoordinatorRequest: Field[] = [
  ['key', 'string', 0, 3],
  ['key_type', 'int8', 1],
  ['coordinator_keys', { array: 'string' }, 4],
];
const findCoordinatorResponse: Field[] = [
  ['throttle_time_ms', 'int32', 1],
  ['error_code', 'int16', 0, 3],
  ['error_message', 'nstring', 1, 3],
  ['node_id', 'int32', 0, 3],
  ['host', 'string', 0, 3],
  ['port', 'int32', 0, 3],
  ['coordinators', { array: [
    ['key', 'string'], ['node_id', 'int32'], ['host', 'string'], ['port', 'int32'], ['error_code', 'int16'],
    ['error_message', 'nstring'],
  ] }, 4],
];

const joinGroupRequest: Field[] = [
  ['group_id', 'string'],
  ['session_timeout_ms', 'int32'],
  ['rebalance_timeout_ms', 'int32', 1],
  ['member_id', 'string'],
  ['group_instance_id', 'nstring', 5],
  ['protocol_type', 'string'],
  ['protocols', { array: [['name', 'string'], ['metadata', 'bytes']] }],
  ['reason', 'nstring', 8],
];
const joinGroupResponse: Field[] = [
  ['throttle_time_ms', 'int32', 2],
  ['error_code', 'int16'],
  ['generation_id', 'int32'],
  ['protocol_type', 'nstring', 7],
  ['protocol_name', 'nstring'],
  ['leader', 'string'],
  ['skip_assignment', 'bool', 9],
  ['member_id', 'string'],
  ['members', { array: [['member_id', 'string'], ['group_instance_id', 'nstring', 5], ['metadata', 'bytes']] }],
];

const syncGroupRequest: Field[] = [
  ['group_id', 'string'],
  ['generation_id', 'int32'],
  ['member_id', 'string'],
  ['group_instance_id', 'nstring', 3],
  ['protocol_type', 'nstring', 5],
  ['protocol_name', 'nstring', 5],
  ['assignments', { array: [['member_id', 'string'], ['assignment', 'bytes']] }],
];
const syncGroupResponse: Field[] = [
  ['throttle_time_ms', 'int32', 1],
  ['error_code', 'int16'],
  ['protocol_type', 'nstring', 5],
  ['protocol_name', 'nstring', 5],
  ['assignment', 'bytes'],
];

const heartbeatRequest: Field[] = [
  ['group_id', 'string'],
  ['generation_id', 'int32'],
  ['member_id', 'string'],
  ['group_instance_id', 'nstring', 3],
];
const heartbeatResponse: Field[] = [['throttle_time_ms', 'int32', 1], ['error_code', 'int16']];

const leaveGroupRequest: Field[] = [
  ['group_id', 'string'],
  ['member_id', 'string', 0, 2],
  ['members', { array: [['member_id', 'string'], ['group_instance_id', 'nstring'], ['reason', 'nstring', 5]] }, 3],
];
const leaveGroupResponse: Field[] = [
  ['throttle_time_ms', 'int32', 1],
  ['error_code', 'int16'],
  ['members', { array: [['member_id', 'string'], ['group_instance_id', 'nstring'], ['error_code', 'int16']] }, 3],
];

const offsetCommitRequest: Field[] = [
  ['group_id', 'string'],
  ['generation_id', 'int32', 1],
  ['member_id', 'string', 1],
  ['group_instance_id', 'nstring', 7],
  ['retention_time_ms', 'int64', 2, 4],
  ['topics', { array: [
    ['name', 'string'],
    ['partitions', { array: [
      ['partition_index', 'int32'],
      ['committed_offset', 'int64'],
      ['committed_leader_epoch', 'int32', 6],
      ['commit_timestamp', 'int64', 1, 1],
      ['committed_metadata', 'nstring'],
    ] }],
  ] }],
];
const offsetCommitResponse: Field[] = [
  ['throttle_time_ms', 'int32', 3],
  ['topics', { array: [['name', 'string'], ['partitions', { array: [['partition_index', 'int32'], ['error_code', 'int16']] }]] }],
];

const offsetFetchPartitionsResp: Field[] = [
  ['partition_index', 'int32'],
  ['committed_offset', 'int64'],
  ['committed_leader_epoch', 'int32', 5],
  ['metadata', 'nstring'],
  ['error_code', 'int16'],
];
const offsetFetchRequest: Field[] = [
  ['group_id', 'string', 0, 7],
  ['topics', { array: [['name', 'string'], ['partition_indexes', { array: 'int32' }]], nullableFrom: 2 }, 0, 7],
  ['groups', { array: [
    ['group_id', 'string'],
    ['member_id', 'nstring', 9],
    ['member_epoch', 'int32', 9],
    ['topics', { array: [['name', 'string'], ['partition_indexes', { array: 'int32' }]], nullableFrom: 8 }],
  ] }, 8],
  ['require_stable', 'bool', 7],
];
const offsetFetchResponse: Field[] = [
  ['throttle_time_ms', 'int32', 3],
  ['topics', { array: [['name', 'string'], ['partitions', { array: offsetFetchPartitionsResp }]] }, 0, 7],
  ['error_code', 'int16', 2, 7],
  ['groups', { array: [
    ['group_id', 'string'],
    ['topics', { array: [['name', 'string'], ['partitions', { array: offsetFetchPartitionsResp }]] }],
    ['error_code', 'int16'],
  ] }, 8],
];

export interface ApiSchema {
  request: Field[];
  response: Field[];
}

/** Schemas by API key. */
export const SCHEMAS: ReadonlyMap<number, ApiSchema> = new Map([
  [ApiKey.produce, { request: produceRequest, response: produceResponse }],
  [ApiKey.fetch, { request: fetchRequest, response: fetchResponse }],
  [ApiKey.listOffsets, { request: listOffsetsRequest, response: listOffsetsResponse }],
  [ApiKey.metadata, { request: metadataRequest, response: metadataResponse }],
  [ApiKey.offsetCommit, { request: offsetCommitRequest, response: offsetCommitResponse }],
  [ApiKey.offsetFetch, { request: offsetFetchRequest, response: offsetFetchResponse }],
  [ApiKey.findCoordinator, { request: findCoordinatorRequest, response: findCoordinatorResponse }],
  [ApiKey.joinGroup, { request: joinGroupRequest, response: joinGroupResponse }],
  [ApiKey.heartbeat, { request: heartbeatRequest, response: heartbeatResponse }],
  [ApiKey.leaveGroup, { request: leaveGroupRequest, response: leaveGroupResponse }],
  [ApiKey.syncGroup, { request: syncGroupRequest, response: syncGroupResponse }],
  [ApiKey.apiVersions, { request: apiVersionsRequest, response: apiVersionsResponse }],
]);
