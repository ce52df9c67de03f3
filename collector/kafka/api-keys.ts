// Kafka API keys: every key named (for req_body and docs), and the first flexible version of each
// (KIP-482: compact strings/arrays, tagged fields, request header v2 / response header v1).
export const API_NAMES: readonly string[] = [
  'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'LeaderAndIsr', 'StopReplica', 'UpdateMetadata',
  'ControlledShutdown', 'OffsetCommit', 'OffsetFetch', 'FindCoordinator', 'JoinGroup', 'Heartbeat',
  'LeaveGroup', 'SyncGroup', 'DescribeGroups', 'ListGroups', 'SaslHandshake', 'ApiVersions',
  'CreateTopics', 'DeleteTopics', 'DeleteRecords', 'InitProducerId', 'OffsetForLeaderEpoch',
  'AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn', 'WriteTxnMarkers', 'TxnOffsetCommit',
  'DescribeAcls', 'CreateAcls', 'DeleteAcls', 'DescribeConfigs', 'AlterConfigs',
  'AlterReplicaLogDirs', 'DescribeLogDirs', 'SaslAuthenticate', 'CreatePartitions',
  'CreateDelegationToken', 'RenewDelegationToken', 'ExpireDelegationToken',
  'DescribeDelegationToken', 'DeleteGroups', 'ElectLeaders', 'IncrementalAlterConfigs',
  'AlterPartitionReassignments', 'ListPartitionReassignments', 'OffsetDelete',
  'DescribeClientQuotas', 'AlterClientQuotas', 'DescribeUserScramCredentials',
  'AlterUserScramCredentials', 'Vote', 'BeginQuorumEpoch', 'EndQuorumEpoch', 'DescribeQuorum',
  'AlterPartition', 'UpdateFeatures', 'Envelope', 'FetchSnapshot', 'DescribeCluster',
  'DescribeProducers', 'BrokerRegistration', 'BrokerHeartbeat', 'UnregisterBroker',
  'DescribeTransactions', 'ListTransactions', 'AllocateProducerIds', 'ConsumerGroupHeartbeat',
  'ConsumerGroupDescribe', 'ControllerRegistration', 'GetTelemetrySubscriptions', 'PushTelemetry',
  'AssignReplicasToDirs', 'ListClientMetricsResources', 'DescribeTopicPartitions',
  'ShareGroupHeartbeat', 'ShareGroupDescribe', 'ShareFetch', 'ShareAcknowledge', 'AddRaftVoter',
  'RemoveRaftVoter', 'UpdateRaftVoter', 'InitializeShareGroupState', 'ReadShareGroupState',
  'WriteShareGroupState', 'DeleteShareGroupState', 'ReadShareGroupStateSummary',
];

export const ApiKey = {
  produce: 0, fetch: 1, listOffsets: 2, metadata: 3, offsetCommit: 8, offsetFetch: 9, findCoordinator: 10,
  joinGroup: 11, heartbeat: 12, leaveGroup: 13, syncGroup: 14, saslHandshake: 17, apiVersions: 18,
} as const;

/** First flexible version per API key (Infinity: never flexible). */
const FLEXIBLE_FROM: readonly number[] = [
  9, 12, 6, 9, 4, 2, 6, 3, 8, 6, 3, 6, 4, 4, 4, 5, 3, Infinity, 3, 5, 4, 2, 2, 4, 3, 3, 3, 1, 3, 2, 2, 2, 4, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 0, 0, Infinity, 1, 1, 0, 0,
];

export function apiName(key: number): string {
  return API_NAMES[key] ?? `Unknown(${key})`;
}

/** Highest API version believed when inferring or resynchronising. */
export const MAX_PLAUSIBLE_VERSION = 20;

export function isKnownApi(key: number): boolean {
  return key >= 0 && key < API_NAMES.length;
}

export function isFlexible(key: number, version: number): boolean {
  return version >= (FLEXIBLE_FROM[key] ?? 0);
}

/** Response header v1 (with tagged fields) — except ApiVersions, whose response header is always v0. */
export function responseHeaderHasTags(key: number, version: number): boolean {
  return key !== ApiKey.apiVersions && isFlexible(key, version);
}
