// `npm run bench -- capture-loss [--rate 5000] [--seconds 60]`
// Does capture lose requests? A rate-limited keep-alive client sends GET /seq/N (N = 0..) at
// --rate req/s to a private nginx on 127.0.0.1 while the full pipeline runs (eBPF source →
// collector → http_events rows, plus the wiretap_stats producer). Every N must appear exactly
// once on the server side and once on the client side; what is missing is listed, and
// wiretap_stats must account for any loss (drops, gaps, parse failures). Target: 0 lost.
import { Collector } from '../collector/collector.ts';
import { EbpfSource } from '../collector/sources/ebpf.ts';
import { StatsProducers } from '../collector/stats/producers.ts';
import type { HttpEventRow, RowSink, RowTypes, TableName } from '../engine/schema.ts';
import type { WiretapStatsRow } from '../engine/tables/wiretap-stats.ts';
import { probe } from '../native/index.ts';
import { missing, opt, rateClient, sleep, startNginx } from './_nginx.ts';

const log = (s: string) => process.stderr.write(`[capture-loss] ${s}\n`);

function missingIds(seen: Map<number, number>, total: number): { lost: number; duplicated: number; firstLost: number[] } {
  let lost = 0;
  let duplicated = 0;
  const firstLost: number[] = [];
  for (let i = 0; i < total; i++) {
    const n = seen.get(i) ?? 0;
    if (n === 0) {
      lost++;
      if (firstLost.length < 20) firstLost.push(i);
    } else if (n > 1) duplicated += n - 1;
  }
  return { lost, duplicated, firstLost };
}

export default async function captureLoss(args: string[]): Promise<object> {
  const rate = opt(args, '--rate', 5000);
  const seconds = opt(args, '--seconds', 60);
  const skip = probe() ?? missing(['nginx']);
  if (skip) return { skipped: skip };
  const nginx = await startNginx();
  const port = Number(new URL(nginx.url).port);
  const server = new Map<number, number>();
  const client = new Map<number, number>();
  const stats: WiretapStatsRow[] = [];
  let badRows = 0;
  const count = (m: Map<number, number>, row: HttpEventRow) => {
    const id = /^\/seq\/(\d+)$/.exec(row.reqPath);
    if (!id || row.respStatus !== 200) return void badRows++;
    m.set(Number(id[1]), (m.get(Number(id[1])) ?? 0) + 1);
  };
  const sink: RowSink = {
    append<T extends TableName>(table: T, row: RowTypes[T]): void {
      if (table === 'http_events') {
        const r = row as HttpEventRow;
        if (r.traceRole === 2 && r.localPort === port) count(server, r);
        else if (r.traceRole === 1 && r.remotePort === port) count(client, r);
      } else if (table === 'wiretap_stats') stats.push(row as WiretapStatsRow);
    },
  };
  const source = new EbpfSource({});
  const collector = new Collector(source, sink);
  const producers = new StatsProducers(collector, sink, { intervalMs: 5000 });
  let res;
  try {
    await collector.start();
    producers.start();
    log(`nginx on ${nginx.url}; ${rate} req/s for ${seconds} s`);
    res = await rateClient(nginx.url, rate, seconds);
    await sleep(500);
    producers.stop();
    await collector.stop();
  } finally {
    await collector.stop();
    await nginx.stop();
  }
  const total = res.sent;
  const srv = missingIds(server, total);
  const cli = missingIds(client, total);
  const sum = (k: keyof WiretapStatsRow) => stats.reduce((a, r) => a + (r[k] as number), 0);
  const accounted = {
    ringbufDrops: sum('ringbufDrops'), userDrops: sum('userDrops'), gapBytes: sum('gapBytes'),
    parseFailures: sum('parseFailures'), expiredRequests: sum('expiredRequests'), truncated: sum('truncated'),
  };
  const lossSeen = srv.lost + cli.lost > 0;
  const lossAccounted = accounted.ringbufDrops + accounted.userDrops + accounted.gapBytes + accounted.parseFailures + accounted.expiredRequests > 0;
  return {
    rate, seconds,
    client: { sent: res.sent, ok: res.ok, failed: res.failed, seconds: Number(res.seconds.toFixed(1)), p99Ms: res.p99Ms },
    server: srv,
    clientSide: cli,
    rowsNotMatching: badRows,
    wiretapStats: { intervals: stats.length, events: sum('events'), ...accounted },
    verdict: !lossSeen ? 'no request lost' : lossAccounted ? 'loss, and wiretap_stats shows it' : 'LOSS NOT ACCOUNTED FOR',
  };
}
