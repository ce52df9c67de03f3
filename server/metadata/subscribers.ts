// How the cluster-mode processes (issue 7) attach to the metadata service: an agent follows its
// node's topic into a PodStore (the PodResolver its node metadata store calls); a broker follows
// the cluster topic into the planner's ClusterMetadataView. server/ assembles processes, so the
// wiring between collector/k8s and planner/cluster-metadata lives here.
import type { NatsConnection } from 'nats';
import { MetadataFeed, type FeedLog, type FeedOptions } from '../../collector/k8s/metadata-feed.ts';
import { PodStore, type PodStoreOptions } from '../../collector/k8s/pod-store.ts';
import { clusterTopic, nodeTopic } from '../../collector/k8s/wire.ts';
import { ClusterMetadataView, type ClusterViewOptions } from '../../planner/cluster-metadata/cluster-view.ts';

type Tuning = Partial<Pick<FeedOptions, 'pollIntervalMs' | 'requestTimeoutMs' | 'batch' | 'backoffMinMs' | 'backoffMaxMs' | 'resumeAfter' | 'resumeEpoch'>>;

export interface NodeMetadata { store: PodStore; feed: MetadataFeed }
export interface ClusterMetadata { view: ClusterMetadataView; feed: MetadataFeed }

/** Agent side. Resolves once caught up with the service (retrying while it is unreachable). */
export async function followNodeMetadata(nc: NatsConnection, node: string, o: { log?: FeedLog; store?: PodStore; storeOptions?: PodStoreOptions } & Tuning = {}): Promise<NodeMetadata> {
  const store = o.store ?? new PodStore(o.storeOptions);
  const feed = new MetadataFeed({ ...o, nc, topic: nodeTopic(node), sink: store });
  await feed.start();
  return { store, feed };
}

/** Broker side. Resolves once caught up with the service (retrying while it is unreachable). */
export async function followClusterMetadata(nc: NatsConnection, o: { log?: FeedLog; viewOptions?: ClusterViewOptions } & Tuning = {}): Promise<ClusterMetadata> {
  const view = new ClusterMetadataView(o.viewOptions);
  const feed = new MetadataFeed({ ...o, nc, topic: clusterTopic, sink: view });
  await feed.start();
  return { view, feed };
}
