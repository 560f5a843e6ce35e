// Helpers for Kite's transport tests: a controller stand-in built on the `ws`
// package (an independent RFC 6455 implementation), remoting chunk framing
// written from the protocol description, and a harness that runs the kite
// binary and watches its log.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'peers', 'package.json'));

export function loadWs() {
  try {
    return require('ws');
  } catch (e) {
    console.log(`SKIP: the ws package is not installed (run npm ci in tests/peers): ${e.message}`);
    process.exit(77);
  }
}

// The capability header remoting 3386 sends for mask 0x1FE.
export const CAPABILITY_510 =
  'rO0ABXNyABpodWRzb24ucmVtb3RpbmcuQ2FwYWJpbGl0eQAAAAAAAAABAgABSgAEbWFza3hwAAAAAAAAAf4=';
export const SECRET = 'a'.repeat(32) + '0123456789abcdef0123456789abcdef';
export const COOKIE = 'c0ffee'.padEnd(64, '5');

// Splits one command into remoting chunks: 2-byte big-endian header, bit 15
// set while more chunks follow, low 15 bits the payload length.
export function toChunks(command, size = 8192) {
  const chunks = [];
  let pos = 0;
  do {
    const len = Math.min(size, command.length - pos);
    const more = pos + len < command.length;
    const header = Buffer.alloc(2);
    header.writeUInt16BE((more ? 0x8000 : 0) | len);
    chunks.push(Buffer.concat([header, command.subarray(pos, pos + len)]));
    pos += len;
  } while (pos < command.length);
  return chunks;
}

// Reassembles commands from a byte stream of chunks fed in arbitrary pieces.
export class ChunkStream {
  constructor(onCommand) {
    this.buf = Buffer.alloc(0);
    this.parts = [];
    this.onCommand = onCommand;
  }
  feed(data) {
    this.buf = Buffer.concat([this.buf, data]);
    for (;;) {
      if (this.buf.length < 2) return;
      const h = this.buf.readUInt16BE(0);
      const len = h & 0x7fff;
      if (this.buf.length < 2 + len) return;
      this.parts.push(this.buf.subarray(2, 2 + len));
      this.buf = this.buf.subarray(2 + len);
      if (!(h & 0x8000)) {
        const command = Buffer.concat(this.parts);
        this.parts = [];
        this.onCommand(command);
      }
    }
  }
}

// A pseudo-command: a Java serialization stream header followed by bytes.
export function makeCommand(size, seed = 1) {
  const b = Buffer.alloc(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  if (size >= 4) b.writeUInt32BE(0xaced0005, 0);
  return b;
}

export function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

export function check(condition, message) {
  if (!condition) fail(message);
  console.log(`ok: ${message}`);
}

export function listen(server, host = '127.0.0.1') {
  return new Promise((resolve) => server.listen(0, host, () => resolve(server.address().port)));
}

// A controller stand-in: /login answers 200 (or what loginStatus() returns),
// <prefix>wsagents/ goes to onUpgrade(req, socket, head).
export async function startController({ WebSocket, prefix = '/', tls = null, loginStatus = () => 200, onUpgrade, onRequest }) {
  const handler = (req, res) => {
    if (onRequest && onRequest(req, res)) return;
    if (req.url === `${prefix}login`) {
      const status = loginStatus();
      res.writeHead(status, { 'Content-Type': 'text/html' });
      res.end(status === 200 ? '<html>login</html>' : 'starting');
      return;
    }
    res.writeHead(404);
    res.end('not found');
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  const wss = new WebSocket.WebSocketServer({ noServer: true, maxPayload: 64 << 20 });
  server.on('upgrade', (req, socket, head) => {
    if (req.url !== `${prefix}wsagents/`) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found');
      return;
    }
    onUpgrade(req, socket, head, wss);
  });
  const port = await listen(server);
  const scheme = tls ? 'https' : 'http';
  return { server, wss, port, url: `${scheme}://127.0.0.1:${port}${prefix}` };
}

// Accepts the upgrade like Jenkins: 101 with capability, cookie and minimum version.
export function acceptJenkins(wss, req, socket, head, { cookie = COOKIE, minimumVersion = '3176.v207ec082a_8c0', capability = CAPABILITY_510 } = {}) {
  return new Promise((resolve) => {
    const addHeaders = (headers) => {
      if (capability) headers.push(`X-Remoting-Capability: ${capability}`);
      if (minimumVersion) headers.push(`X-Remoting-Minimum-Version: ${minimumVersion}`);
      if (cookie) headers.push(`Connection-Cookie: ${cookie}`);
    };
    wss.once('headers', addHeaders);
    wss.handleUpgrade(req, socket, head, (ws) => resolve(ws));
  });
}

export function rawResponse(socket, status, reason, body, contentType = 'text/plain;charset=UTF-8') {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

// Runs kite and collects its log lines.
export class Kite {
  constructor(binary, args, env = {}) {
    const childEnv = { ...process.env, ...env };
    for (const name of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY',
      'JENKINS_URL', 'JENKINS_SECRET', 'JENKINS_AGENT_NAME', 'JENKINS_NAME', 'JENKINS_WEB_SOCKET', 'JENKINS_AGENT_WORKDIR',
      'JENKINS_DIRECT_CONNECTION', 'JENKINS_TUNNEL', 'JENKINS_PROTOCOLS']) {
      if (!(name in env)) delete childEnv[name];
    }
    this.log = '';
    this.waiters = [];
    this.child = spawn(binary, args, { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d) => {
      const text = d.toString();
      process.stdout.write(text.replace(/^/gm, '  kite| '));
      this.log += text;
      this.waiters = this.waiters.filter((w) => !w());
    };
    this.child.stdout.on('data', onData);
    this.child.stderr.on('data', onData);
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }
  waitFor(pattern, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const test = () => {
        const m = this.log.match(pattern);
        if (m) resolve(m);
        return !!m;
      };
      if (test()) return;
      this.waiters.push(test);
      setTimeout(() => reject(new Error(`timed out waiting for ${pattern} in the kite log`)), timeoutMs);
    });
  }
  async exit(timeoutMs = 10000) {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
  stop() {
    this.child.kill('SIGTERM');
    return this.exit();
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export function nextMessage(ws, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for a message')), timeoutMs);
    ws.once('message', (data, isBinary) => {
      clearTimeout(timer);
      resolve({ data, isBinary });
    });
  });
}

// Collects the commands kite sends on `ws`, checking that every WebSocket
// message is exactly one chunk of at most 8192 payload bytes.
export function collectCommands(ws) {
  const commands = [];
  const waiters = [];
  const problems = [];
  const stream = new ChunkStream((c) => {
    commands.push(c);
    for (const w of waiters.splice(0)) w();
  });
  ws.on('message', (data, isBinary) => {
    if (!isBinary) problems.push('text message');
    if (data.length < 2 || (data.readUInt16BE(0) & 0x7fff) !== data.length - 2) problems.push(`message of ${data.length} bytes is not one chunk`);
    if (data.length > 8194) problems.push(`message of ${data.length} bytes exceeds 8192 payload bytes`);
    stream.feed(data);
  });
  return {
    commands,
    problems,
    async waitCount(n, timeoutMs = 10000) {
      const deadline = Date.now() + timeoutMs;
      while (commands.length < n) {
        if (Date.now() > deadline) throw new Error(`timed out: ${commands.length} of ${n} commands echoed`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 100); });
      }
    },
  };
}

export { net, http, https };
