// MetadataFeed (collector/k8s/) against a hand-driven publisher and "missing updates" responder
// on a real nats-server: exact gap detection, ordered recovery, duplicates, pruned → snapshot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import { MetadataFeed, type FeedSink } from '../collector/k8s/metadata-feed.ts';
import { missingSubject, nodeTopic, topicSubject, type MetadataUpdate, type MissingRequest, type PodMeta } from '../collector/k8s/wire.ts';
import { startNats } from './fixtures/fake-kube/nats-server.ts';
import { waitFor } from './helpers/processes.ts';

const codec = JSONCodec<unknown>();
const topic = nodeTopic('n1');

function update(version: number, prevVersion: number, name = `p${version}`): MetadataUpdate {
  const value: PodMeta = { uid: name, name, namespace: 'ns', node: 'n1', services: [], containers: [], labels: {}, phase: 'Running', podIp: '' };
  return { kind: 'pod', key: name, value, op: 'upsert', epoch: 'E', version, prevVersion, atMs: Date.now() };
}

class RecordingSink implements FeedSink {
  applied: number[] = [];
  resets: number[] = [];
  reset(entities: MetadataUpdate[]): void { this.resets.push(entities.length); }
  apply(u: MetadataUpdate): void { this.applied.push(u.version); }
}

/** Answers ranges from `history`, or "pruned" for anything before `prunedThrough`. */
function responder(nc: NatsConnection, history: MetadataUpdate[], state: { prunedThrough: number; requests: MissingRequest[] }) {
  return nc.subscribe(missingSubject, { callback: (_err, msg) => {
    const req = codec.decode(msg.data) as MissingRequest;
    state.requests.push(req);
    const head = history.at(-1)?.version ?? 0;
    if (req.op === 'snapshot') { msg.respond(codec.encode({ epoch: 'E', version: head, entities: history.slice(-1) })); return; }
    if (req.after < state.prunedThrough) { msg.respond(codec.encode({ ok: false, reason: 'pruned' })); return; }
    const updates = history.filter((u) => u.version > req.after && u.version <= (req.upTo ?? Infinity)).slice(0, req.max ?? 500);
    msg.respond(codec.encode({ ok: true, epoch: 'E', updates, head }));
  } });
}

test('a gap in prevVersion is recovered from the service, in order; live duplicates are skipped', async () => {
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  try {
    const history = [update(1, 0), update(4, 1), update(6, 4), update(9, 6)];
    const state = { prunedThrough: 0, requests: [] as MissingRequest[] };
    responder(nc, history, state);
    const sink = new RecordingSink();
    const feed = new MetadataFeed({ nc, topic, sink, resumeAfter: 1, resumeEpoch: 'E', pollIntervalMs: 60_000, batch: 1 });
    // Start with only v1 published: the initial catch-up finds nothing newer.
    history.splice(1);
    await feed.start();
    history.push(update(4, 1), update(6, 4), update(9, 6));
    // Live: v4 arrives, v6 is "lost", v9 arrives (prevVersion 6 > 4 → gap).
    nc.publish(topicSubject(topic), codec.encode(update(4, 1)));
    nc.publish(topicSubject(topic), codec.encode(update(9, 6)));
    nc.publish(topicSubject(topic), codec.encode(update(4, 1))); // a duplicate
    await waitFor('recovered', async () => (feed.version === 9 ? true : undefined), 10_000);
    assert.deepEqual(sink.applied, [4, 6, 9], 'applied once each, in version order');
    assert.equal(feed.stats.gaps, 1);
    assert.equal(feed.stats.recoveredUpdates, 1, 'only the missing v6 (asked for 4 < v ≤ 6); v9 itself came live');
    assert.ok(feed.stats.duplicates >= 1);
    const ranges = state.requests.filter((r) => r.op === 'range') as { after: number; upTo?: number }[];
    assert.deepEqual(ranges.map((r) => [r.after, r.upTo]), [[1, undefined], [4, 6]], 'start, then exactly the gap');
    await feed.stop();
  } finally {
    await nc.close();
    await nats.stop();
  }
});

test('a range the service no longer holds falls back to a snapshot, then continues from its version', async () => {
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  try {
    const history = [update(10, 7), update(12, 10)];
    const state = { prunedThrough: 9, requests: [] as MissingRequest[] };
    responder(nc, history, state);
    const sink = new RecordingSink();
    const feed = new MetadataFeed({ nc, topic, sink, resumeAfter: 3, resumeEpoch: 'E', pollIntervalMs: 60_000 });
    await feed.start();
    assert.deepEqual(state.requests.map((r) => r.op), ['range', 'snapshot', 'range']);
    assert.deepEqual(sink.resets, [1]);
    assert.equal(feed.version, 12);
    assert.equal(feed.stats.snapshots, 1);
    await feed.stop();
  } finally {
    await nc.close();
    await nats.stop();
  }
});

test('a sink that throws does not kill the feed: it backs off and resyncs from a snapshot', async () => {
  const nats = await startNats();
  const nc = await connect({ servers: nats.url });
  try {
    const history = [update(1, 0)];
    const state = { prunedThrough: 0, requests: [] as MissingRequest[] };
    responder(nc, history, state);
    let failures = 2;
    const sink = new RecordingSink();
    const flaky: FeedSink = { reset: (e) => sink.reset(e), apply: (u) => { if (u.version === 2 && failures-- > 0) throw new Error('boom'); sink.apply(u); } };
    const feed = new MetadataFeed({ nc, topic, sink: flaky, resumeAfter: 1, resumeEpoch: 'E', pollIntervalMs: 60_000, backoffMinMs: 50, backoffMaxMs: 200 });
    await feed.start();
    history.push(update(2, 1));
    nc.publish(topicSubject(topic), codec.encode(update(2, 1)));
    await waitFor('resynced', async () => (feed.version === 2 ? true : undefined), 10_000);
    assert.equal(feed.stats.snapshots, 1, 'state repaired from a snapshot');
    assert.deepEqual(sink.resets, [1]);
    history.push(update(3, 2));
    nc.publish(topicSubject(topic), codec.encode(update(3, 2)));
    await waitFor('live again', async () => (sink.applied.includes(3) ? true : undefined), 10_000);
    await feed.stop();
  } finally {
    await nc.close();
    await nats.stop();
  }
});
