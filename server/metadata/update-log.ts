// Durable, versioned log of metadata updates: an append-only JSON-lines file, fsynced before an
// update is published, so a restart never reuses or resets a version (Pixie #534: agents then
// ignored every new update). Holds per topic the updates of the last `retainMs` (for range
// recovery) and the latest state of every entity (for snapshots); deleted entities stay as
// tombstones for `tombstoneMs`. Compaction rewrites the file (temp + rename) keeping those, and
// remembers the highest version it dropped: a range starting before it gets "pruned".
import { closeSync, existsSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Entity, MetadataUpdate, RangeReply, SnapshotReply } from '../../collector/k8s/wire.ts';
import { entityId } from './derive.ts';

/** One update as stored: with its previous version on each topic it belongs to. */
export type StoredUpdate = Entity & { v: number; op: 'upsert' | 'delete'; atMs: number; topics: [topic: string, prev: number][] };

interface Header { epoch: string; version: number; prunedThrough: number; heads: Record<string, number> }

export interface UpdateLogOptions {
  retainMs?: number;
  tombstoneMs?: number;
  now?: () => number;
}

export interface NewUpdate { entity: Entity; op: 'upsert' | 'delete'; topics: string[] }

const maxReplyBytes = 512 * 1024; // well under NATS's default 1 MiB max_payload

export class UpdateLog {
  /** Random id of this log, kept across restarts; a new one means history was lost. */
  epoch = '';
  /** Highest version ever assigned. */
  version = 0;
  /** Highest version dropped by compaction: ranges starting before it cannot be replayed. */
  prunedThrough = 0;
  private heads = new Map<string, number>();
  private byTopic = new Map<string, StoredUpdate[]>();
  /** Latest update per entity id. */
  readonly state = new Map<string, StoredUpdate>();
  private fd: number;
  readonly retainMs: number;
  readonly tombstoneMs: number;
  private readonly now: () => number;

  constructor(readonly path: string, o: UpdateLogOptions = {}) {
    this.retainMs = o.retainMs ?? 3600_000;
    this.tombstoneMs = o.tombstoneMs ?? 3_600_000;
    this.now = o.now ?? Date.now;
    mkdirSync(dirname(path), { recursive: true });
    const stored = existsSync(path) ? this.load() : [];
    this.epoch ||= randomUUID();
    this.fd = -1;
    // Start from a clean, compacted file (also drops a line torn by a crash).
    this.rewrite(stored);
  }

  head(topic: string): number {
    return this.heads.get(topic) ?? 0;
  }

  /** Assigns versions, writes and syncs; returns the stored updates to publish. */
  append(updates: NewUpdate[]): StoredUpdate[] {
    if (!updates.length) return [];
    const atMs = this.now();
    const out: StoredUpdate[] = [];
    for (const u of updates) {
      const v = ++this.version;
      const s = { ...u.entity, v, op: u.op, atMs, topics: u.topics.map((t) => [t, this.head(t)] as [string, number]) } as StoredUpdate;
      for (const t of u.topics) this.heads.set(t, v);
      out.push(s);
    }
    writeSync(this.fd, out.map((s) => JSON.stringify(s) + '\n').join(''));
    fdatasyncSync(this.fd);
    for (const s of out) this.index(s);
    return out;
  }

  range(topic: string, after: number, max = 500, upTo = Infinity): RangeReply {
    if (after < this.prunedThrough) return { ok: false, reason: 'pruned' };
    const list = this.byTopic.get(topic) ?? [];
    const updates: MetadataUpdate[] = [];
    let bytes = 0;
    for (let i = firstAfter(list, after); i < list.length && list[i]!.v <= upTo && updates.length < max && bytes < maxReplyBytes; i++) {
      const u = this.wire(list[i]!, topic);
      bytes += JSON.stringify(u).length;
      updates.push(u);
    }
    return { ok: true, epoch: this.epoch, updates, head: this.head(topic) };
  }

  /** Live entities of the topic plus fresh tombstones, by entity id, in chunks. */
  snapshot(topic: string, cursor?: string, max = 500): SnapshotReply {
    const cutoff = this.now() - this.tombstoneMs;
    // Sort only what belongs to the topic (a node's pods, not the cluster).
    const ids = [...this.state].filter(([id, s]) => (cursor === undefined || id > cursor) && s.topics.some(([t]) => t === topic)).map(([id]) => id).sort();
    const entities: MetadataUpdate[] = [];
    let bytes = 0;
    let last: string | undefined;
    for (const id of ids) {
      if (entities.length >= max || bytes >= maxReplyBytes) return { epoch: this.epoch, version: this.head(topic), entities, nextCursor: last };
      last = id;
      const s = this.state.get(id)!;
      if (s.op === 'delete' && s.atMs < cutoff) continue;
      const u = this.wire(s, topic);
      bytes += JSON.stringify(u).length;
      entities.push(u);
    }
    return { epoch: this.epoch, version: this.head(topic), entities };
  }

  /** Drops updates older than the retention and expired tombstones; rewrites the file. */
  compact(): void {
    const all = new Map<number, StoredUpdate>();
    for (const list of this.byTopic.values()) for (const s of list) all.set(s.v, s);
    this.rewrite([...all.values()].sort((a, b) => a.v - b.v));
  }

  /** An update as published on `topic`: with that topic's previous version and the epoch. */
  wire(s: StoredUpdate, topic: string): MetadataUpdate {
    const prev = s.topics.find(([t]) => t === topic)?.[1] ?? 0;
    const { v, topics: _topics, ...rest } = s;
    return { ...rest, epoch: this.epoch, version: v, prevVersion: prev } as MetadataUpdate;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private load(): StoredUpdate[] {
    const out: StoredUpdate[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let rec: { header?: Header } & Partial<StoredUpdate>;
      try { rec = JSON.parse(line); } catch { continue; } // a torn last line
      if (rec.header) {
        this.epoch = rec.header.epoch;
        this.version = Math.max(this.version, rec.header.version);
        this.prunedThrough = Math.max(this.prunedThrough, rec.header.prunedThrough);
        for (const [t, v] of Object.entries(rec.header.heads)) this.heads.set(t, Math.max(this.head(t), v));
      } else if (typeof rec.v === 'number') {
        const s = rec as StoredUpdate;
        out.push(s);
        this.version = Math.max(this.version, s.v);
        for (const [t] of s.topics) this.heads.set(t, Math.max(this.head(t), s.v));
      }
    }
    return out;
  }

  /** Keeps recent updates and each live entity's latest one; writes header + kept, atomically. */
  private rewrite(updates: StoredUpdate[]): void {
    const now = this.now();
    const latest = new Map<string, StoredUpdate>();
    for (const s of updates) latest.set(entityId(s), s);
    const keep: StoredUpdate[] = [];
    for (const s of updates) {
      const isLatest = latest.get(entityId(s)) === s;
      const fresh = s.atMs >= now - this.retainMs;
      const liveState = isLatest && (s.op === 'upsert' || s.atMs >= now - this.tombstoneMs);
      if (fresh || liveState) keep.push(s);
      else this.prunedThrough = Math.max(this.prunedThrough, s.v);
    }
    const header: Header = { epoch: this.epoch, version: this.version, prunedThrough: this.prunedThrough, heads: Object.fromEntries(this.heads) };
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    writeSync(fd, [JSON.stringify({ header }), ...keep.map((s) => JSON.stringify(s))].join('\n') + '\n');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
    const dirFd = openSync(dirname(this.path), 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
    this.byTopic.clear();
    this.state.clear();
    for (const s of keep) this.index(s);
    // An entity whose latest update was dropped (expired tombstone) must not reappear as older state.
    const kept = new Set(keep);
    for (const [id, s] of latest) if (!kept.has(s)) this.state.delete(id);
  }

  private index(s: StoredUpdate): void {
    for (const [t] of s.topics) {
      let list = this.byTopic.get(t);
      if (!list) this.byTopic.set(t, (list = []));
      list.push(s);
    }
    this.state.set(entityId(s), s);
  }
}

function firstAfter(list: StoredUpdate[], after: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.v <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
