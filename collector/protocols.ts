// The protocols the tracker tries, in inference order. Adding a protocol: one folder plus one
// line here.
import type { TrackerOptions } from './conn/tracker.ts';
import { HttpProtocol } from './http/protocol.ts';
import { KafkaProtocol } from './kafka/protocol.ts';
import { MysqlProtocol } from './mysql/protocol.ts';
import type { Protocol } from './protocol.ts';
import type { CollectorStats } from './stats.ts';

export function defaultProtocols(stats: CollectorStats, options: TrackerOptions): Protocol[] {
  return [
    new HttpProtocol(stats, options.http),
    new MysqlProtocol(stats, options.mysql),
    new KafkaProtocol(stats, options.kafka),
  ];
}
