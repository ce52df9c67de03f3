// `npm run bench -- fuzz [--inputs 1000000] [--seed 1] [--only http|mysql|kafka]`
// The long fuzz run: ≥ 1M mutated recorded inputs (and random bytes) per parser. A result says
// passed: false if an exception escaped a parser or a connection's buffers grew past the cap.
import { FIXTURES, loadRecorded } from '../collector/fuzz/corpus.ts';
import { runFuzz } from '../collector/fuzz/harness.ts';
import { HttpProtocol } from '../collector/http/protocol.ts';
import { KafkaProtocol } from '../collector/kafka/protocol.ts';
import { MysqlProtocol } from '../collector/mysql/protocol.ts';
import type { Protocol } from '../collector/protocol.ts';
import type { CollectorStats } from '../collector/stats.ts';

const MAX_BUFFERED = 64 * 1024;

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export default async function (args: string[]): Promise<object> {
  const inputs = Number(arg(args, '--inputs') ?? 1_000_000);
  const seed = Number(arg(args, '--seed') ?? 1);
  const only = arg(args, '--only');
  const cases: [string, (s: CollectorStats) => Protocol][] = [
    ['http', (s) => new HttpProtocol(s)],
    ['mysql', (s) => new MysqlProtocol(s)],
    ['kafka', (s) => new KafkaProtocol(s)],
  ];
  const results = [];
  let ok = true;
  for (const [name, protocol] of cases) {
    if (only !== undefined && only !== name) continue;
    const corpus = await loadRecorded(`${FIXTURES}${name}.pcapng`);
    const r = runFuzz(protocol, corpus, { inputs, seed, maxBufferedBytes: MAX_BUFFERED, inputsPerConnection: 10 });
    const passed = r.stats.errors === 0 && r.maxBufferedSeen <= MAX_BUFFERED + 256 * 1024;
    ok &&= passed;
    process.stderr.write(`${name}: ${r.inputs} inputs in ${r.seconds.toFixed(1)} s, errors ${r.stats.errors}, parse failures ${r.stats.parseFailures}, slowest batch ${r.slowestBatchMs} ms, ${passed ? 'ok' : 'FAILED'}\n`);
    results.push({ protocol: name, passed, ...r, seconds: +r.seconds.toFixed(2) });
  }
  return { inputs, seed, passed: ok, results };
}
