// Starts the demo workload as two separate processes (server and client), so the eBPF capture
// sees real traffic between real processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface Workload {
  port: number;
  pids: number[];
  stop(): void;
}

function run(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(here, script), ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export function startWorkload(port = 8089, requestsPerSecond = 5): Workload {
  const server = run('http-server.ts', [String(port)]);
  // Give the server a moment to bind before the client starts.
  let client: ChildProcess | undefined;
  const timer = setTimeout(() => {
    client = run('http-client.ts', [String(port), '127.0.0.1', String(requestsPerSecond)]);
  }, 1500);
  return {
    port,
    get pids() {
      return [server.pid, client?.pid].filter((p): p is number => p !== undefined);
    },
    stop() {
      clearTimeout(timer);
      client?.kill('SIGTERM');
      server.kill('SIGTERM');
    },
  };
}
