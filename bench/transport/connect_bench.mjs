// Measures, on loopback, the time from spawning kite to the first command
// echoed back over its WebSocket (readiness probe, upgrade, one command each
// way), over 20 runs, and kite's memory when connected and idle.
// Usage: node connect_bench.mjs path/to/kite [runs]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as lib from '../../tests/transport/peer_lib.mjs';

const WebSocket = lib.loadWs();
const [kite, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 20);
if (!kite) {
  console.error('usage: node connect_bench.mjs KITE [RUNS]');
  process.exit(2);
}

let onConnection = null;
const ctl = await lib.startController({
  WebSocket,
  onUpgrade: async (req, socket, head, wss) => {
    const ws = await lib.acceptJenkins(wss, req, socket, head);
    if (onConnection) onConnection(ws);
  },
});
const args = ['-url', ctl.url, '-name', 'bench', '-secret', lib.SECRET, '-webSocket', '--session', 'echo', '-noReconnect', '--log-level', 'warn'];
const command = lib.makeCommand(1897);

async function oneRun() {
  const started = process.hrtime.bigint();
  const child = spawn(kite, args, { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const ms = await new Promise((resolve) => {
    onConnection = (ws) => {
      ws.once('message', () => {
        resolve(Number(process.hrtime.bigint() - started) / 1e6);
        ws.close(1000);
      });
      ws.send(lib.toChunks(command)[0]);
    };
  });
  await exited;
  return ms;
}

const times = [];
await oneRun();  // warm the page cache; not counted
for (let i = 0; i < runs; i++) times.push(await oneRun());
times.sort((a, b) => a - b);
const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;

// Memory when connected and idle.
const child = spawn(kite, args, { stdio: 'ignore' });
const live = await new Promise((resolve) => { onConnection = resolve; });
await lib.sleep(3000);
const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
const field = (name) => (status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm')) || [])[1];
live.close(1000);
await new Promise((resolve) => child.on('exit', resolve));
ctl.server.close();

console.log(`machine: ${os.cpus()[0].model}, ${os.cpus().length} CPUs, ${os.release()}`);
console.log(`kite: ${path.resolve(kite)}`);
console.log(`start to first command echoed (${runs} runs): median ${median.toFixed(2)} ms, min ${times[0].toFixed(2)} ms, max ${times[times.length - 1].toFixed(2)} ms`);
console.log(`idle connected: VmRSS ${field('VmRSS')} kB, VmHWM ${field('VmHWM')} kB, RssAnon ${field('RssAnon')} kB, RssFile ${field('RssFile')} kB, threads ${(status.match(/^Threads:\s+(\d+)/m) || [])[1]}`);
process.exit(0);
