// End-to-end tests of kite's WebSocket transport against a controller
// stand-in built on the `ws` package. Usage: node ws_agent_test.mjs KITE SCENARIO
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as lib from './peer_lib.mjs';

const { check, fail, Kite, sleep } = lib;
const WebSocket = lib.loadWs();
const [kiteBinary, scenario] = process.argv.slice(2);

const baseArgs = (url, extra = []) => ['-url', url, '-name', 'agent-1', '-secret', lib.SECRET, '-webSocket', '--session', 'echo', ...extra];

// Echoes `command` through kite and checks that it comes back unchanged.
async function roundTrip(ws, commands, send) {
  const before = commands.commands.length;
  send();
  await commands.waitCount(before + 1);
  return commands.commands[before];
}

const scenarios = {
  // Upgrade headers, echo, cookie on reconnect, close from both sides.
  async handshake(kite) {
    const seen = [];
    let live;
    const ctl = await lib.startController({
      WebSocket,
      onUpgrade: async (req, socket, head, wss) => {
        seen.push(req.headers);
        live = await lib.acceptJenkins(wss, req, socket, head);
      },
    });
    const agent = new Kite(kite, baseArgs(ctl.url, ['-webSocketHeader', 'X-Proxy-Auth=token 1', '--log-level', 'debug']));
    await agent.waitFor(/online/);
    const h = seen[0];
    check(h['node-name'] === 'agent-1', 'Node-Name header carries the agent name');
    check(h['secret-key'] === lib.SECRET, 'Secret-Key header carries the secret');
    check(h['x-remoting-capability'] === lib.CAPABILITY_510, 'X-Remoting-Capability is the base64 of mask 510');
    check(h['connection-cookie'] === undefined, 'no Connection-Cookie on the first connection');
    check(h['x-proxy-auth'] === 'token 1', '-webSocketHeader adds its header');
    check(!agent.log.includes(lib.SECRET), 'the secret never appears in the log');

    const commands = lib.collectCommands(live);
    const command = lib.makeCommand(1897);
    const echoed = await roundTrip(live, commands, () => live.send(lib.toChunks(command)[0]));
    check(echoed.equals(command), 'a 1897-byte command comes back unchanged');

    // The controller drops the connection: kite reconnects with the cookie.
    live.close(1000, 'channel closed');
    await agent.waitFor(/controller closed the connection with code 1000/);
    await agent.waitFor(/reconnecting in/);
    await agent.waitFor(/online[\s\S]*online/, 10000);
    check(seen.length === 2, 'kite connected a second time');
    check(seen[1]['connection-cookie'] === lib.COOKIE, 'the second upgrade resends the Connection-Cookie');

    // SIGTERM: kite sends a close frame and exits 0.
    const closed = new Promise((resolve) => live.once('close', (code) => resolve(code)));
    const exit = await agent.stop();
    check(exit.code === 0, `kite exits 0 on SIGTERM (got ${exit.code})`);
    check((await closed) === 1000, 'kite sent a close frame with code 1000 on SIGTERM');
    ctl.server.close();
  },

  // Large commands, chunks split across messages, fragmented messages.
  async framing(kite) {
    let live;
    const ctl = await lib.startController({ WebSocket, onUpgrade: async (req, socket, head, wss) => { live = await lib.acceptJenkins(wss, req, socket, head); } });
    const agent = new Kite(kite, baseArgs(ctl.url));
    await agent.waitFor(/online/);
    const commands = lib.collectCommands(live);

    const big = lib.makeCommand(300000, 7);
    let echoed = await roundTrip(live, commands, () => { for (const c of lib.toChunks(big)) live.send(c); });
    check(echoed.equals(big), 'a 300000-byte command in 37 chunks comes back unchanged');

    const exact = lib.makeCommand(8192, 3);
    echoed = await roundTrip(live, commands, () => { for (const c of lib.toChunks(exact)) live.send(c); });
    check(echoed.equals(exact), 'a command of exactly 8192 bytes comes back unchanged');

    // Remoting's reader does not need chunks aligned with messages: send the
    // chunk stream of two commands cut at odd places, including inside a header.
    const a = lib.makeCommand(20000, 11);
    const b = lib.makeCommand(5, 12);
    const stream = Buffer.concat([...lib.toChunks(a, 7000), ...lib.toChunks(b)]);
    const cuts = [1, 3, 7001, 7002, 7003, 14005, stream.length - 1];
    let prev = 0;
    const before = commands.commands.length;
    for (const cut of [...cuts, stream.length]) {
      live.send(stream.subarray(prev, cut));
      prev = cut;
    }
    await commands.waitCount(before + 2);
    check(commands.commands[before].equals(a), 'chunks split across messages reassemble (first command)');
    check(commands.commands[before + 1].equals(b), 'chunks split across messages reassemble (second command)');

    // One WebSocket message in three fragments.
    const c = lib.makeCommand(3000, 13);
    const chunk = lib.toChunks(c)[0];
    echoed = await roundTrip(live, commands, () => {
      live.send(chunk.subarray(0, 10), { fin: false });
      live.send(chunk.subarray(10, 2000), { fin: false });
      live.send(chunk.subarray(2000), { fin: true });
    });
    check(echoed.equals(c), 'a message in three fragments is reassembled');
    check(commands.problems.length === 0, `every message from kite is one chunk of at most 8192 bytes (${commands.problems.join(', ')})`);
    await agent.stop();
    ctl.server.close();
  },

  // Pings in both directions.
  async ping(kite) {
    let live;
    const ctl = await lib.startController({ WebSocket, onUpgrade: async (req, socket, head, wss) => { live = await lib.acceptJenkins(wss, req, socket, head); } });
    const agent = new Kite(kite, baseArgs(ctl.url, ['--ping-interval', '1']));
    await agent.waitFor(/online/);
    const pong = new Promise((resolve) => live.once('pong', (data) => resolve(data)));
    live.ping(Buffer.from('jenkins-ping'));
    check((await pong).toString() === 'jenkins-ping', 'kite answers a ping with a pong carrying the same payload');
    let pings = 0;
    live.on('ping', () => pings++);
    await sleep(2600);
    check(pings >= 2, `kite sends keep-alive pings every second with --ping-interval 1 (saw ${pings})`);
    await agent.stop();
    ctl.server.close();
  },

  // A peer that stops reading is detected by the missing pong.
  async deadpeer(kite) {
    let count = 0;
    let first;
    const ctl = await lib.startController({
      WebSocket,
      onUpgrade: async (req, socket, head, wss) => {
        const ws = await lib.acceptJenkins(wss, req, socket, head);
        if (++count === 1) first = ws;
      },
    });
    const agent = new Kite(kite, baseArgs(ctl.url, ['--ping-interval', '1']));
    await agent.waitFor(/online/);
    first._socket.pause();  // no more reads, so no pongs
    const started = Date.now();
    await agent.waitFor(/no answer from the controller within 1\.0 s of a ping/, 8000);
    const took = Date.now() - started;
    check(took < 4000, `kite detects the dead peer within ${took} ms`);
    await agent.waitFor(/online[\s\S]*online/, 10000);
    check(count === 2, 'kite reconnects after declaring the peer dead');
    await agent.stop();
    first._socket.destroy();
    ctl.server.close();
  },

  // The controller rejects with 400, 403 or 404, or a server that is not Jenkins responds.
  async refusals(kite) {
    const cases = [
      { respond: (s) => lib.rawResponse(s, 400, 'Bad Request', 'agent-1 is already connected to this controller. Rejecting this connection.'),
        expect: /rejected agent 'agent-1' \(HTTP 400\): agent-1 is already connected to this controller/, name: '400 shows the controller text' },
      { respond: (s) => lib.rawResponse(s, 400, 'Bad Request', 'no such agent'), expect: /HTTP 400\): no such agent/, name: '400 unknown agent' },
      { respond: (s) => lib.rawResponse(s, 403, 'Forbidden', ''), expect: /rejected the secret of agent 'agent-1' \(HTTP 403/, name: '403 names the secret' },
      { respond: (s) => lib.rawResponse(s, 404, 'Not Found', 'nope'), expect: /no WebSocket agent endpoint .* \(HTTP 404\)/, name: '404 names the endpoint' },
      { respond: (s) => lib.rawResponse(s, 200, 'OK', '<!DOCTYPE html><html><body>Sign in</body></html>', 'text/html'),
        expect: /answered HTTP 200 OK with an HTML page instead of a WebSocket upgrade: this is not a Jenkins/, name: 'an HTML page is named' },
      { respond: (s) => s.end('SSH-2.0-OpenSSH_9.2\r\n\r\n'), expect: /does not start with an HTTP\/1.x status line/, name: 'a non-HTTP answer is named' },
    ];
    for (const c of cases) {
      const ctl = await lib.startController({ WebSocket, onUpgrade: (req, socket) => c.respond(socket) });
      const agent = new Kite(kite, baseArgs(ctl.url, ['-noReconnect']));
      const exit = await agent.exit(15000);
      check(c.expect.test(agent.log), c.name);
      check(exit.code === 2, `${c.name}: exit status 2 with -noReconnect (got ${exit.code})`);
      ctl.server.close();
    }

    // 101 without the capability header: not Jenkins.
    const ctl = await lib.startController({ WebSocket, onUpgrade: async (req, socket, head, wss) => { await lib.acceptJenkins(wss, req, socket, head, { capability: null }); } });
    const agent = new Kite(kite, baseArgs(ctl.url, ['-noReconnect']));
    const exit = await agent.exit(15000);
    check(/sent no X-Remoting-Capability header: this is not a Jenkins/.test(agent.log), '101 without a capability header is named');
    check(exit.code === 2, '101 without a capability header: exit status 2');
    ctl.server.close();
  },

  // Without -noReconnect a configuration error is retried slowly.
  async slowretry(kite) {
    let attempts = 0;
    const ctl = await lib.startController({ WebSocket, onUpgrade: (req, socket) => { attempts++; lib.rawResponse(socket, 403, 'Forbidden', ''); } });
    const agent = new Kite(kite, baseArgs(ctl.url));
    const m = await agent.waitFor(/configuration error; retrying in (\d+\.\d) s/);
    const delay = parseFloat(m[1]);
    check(delay >= 30 && delay <= 60, `a 403 is retried after 30-60 s (${delay} s)`);
    await sleep(2000);
    check(attempts === 1, 'no second attempt within 2 s');
    const exit = await agent.stop();
    check(exit.code === 0, 'SIGTERM ends the wait at once');
    ctl.server.close();
  },

  // Readiness probe, path prefix and the minimum version header.
  async prefix(kite) {
    let probes = 0;
    let live;
    const ctl = await lib.startController({
      WebSocket,
      prefix: '/jenkins/',
      loginStatus: () => (++probes <= 2 ? 503 : 200),
      onUpgrade: async (req, socket, head, wss) => { live = await lib.acceptJenkins(wss, req, socket, head, { minimumVersion: '9999.v0' }); },
    });
    const url = ctl.url.replace(/\/$/, '');  // no trailing slash: kite adds it
    const agent = new Kite(kite, baseArgs(url));
    await agent.waitFor(/is not ready: GET .*\/jenkins\/login returned HTTP 503; probing again in 1\.0 s/);
    await agent.waitFor(/online/, 15000);
    check(probes === 3, `kite probed /jenkins/login until it returned 200 (${probes} probes)`);
    check(/requires remoting 9999\.v0 or newer; Kite implements 3386\.v353e57a_1b_ea_0/.test(agent.log), 'a higher minimum version is reported');
    const commands = lib.collectCommands(live);
    const cmd = lib.makeCommand(100);
    check((await roundTrip(live, commands, () => live.send(lib.toChunks(cmd)[0]))).equals(cmd), 'echo works under a path prefix');
    await agent.stop();
    ctl.server.close();
  },

  // Bad frames from the peer: a text message, an oversized message.
  async badframes(kite) {
    for (const c of [
      { send: (ws) => ws.send('hello'), code: 1003, name: 'a text message is rejected with 1003' },
      { send: (ws) => ws.send(Buffer.alloc(2 << 20)), code: 1009, name: 'a 2 MiB message is rejected with 1009' },
    ]) {
      let live;
      const ctl = await lib.startController({ WebSocket, onUpgrade: async (req, socket, head, wss) => { live = await lib.acceptJenkins(wss, req, socket, head); } });
      const agent = new Kite(kite, baseArgs(ctl.url, ['-noReconnect']));
      await agent.waitFor(/online/);
      const closed = new Promise((resolve) => live.once('close', (code) => resolve(code)));
      c.send(live);
      check((await closed) === c.code, c.name);
      const exit = await agent.exit();
      check(exit.code === 1, `kite exits 1 after a protocol error with -noReconnect (got ${exit.code})`);
      ctl.server.close();
    }
  },

  // TLS with a private CA made by the openssl CLI.
  async tls(kite) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kite-tls-'));
    const run = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Kite Test CA']);
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
    fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
    run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf']);
    const tls = { key: fs.readFileSync(path.join(dir, 'server.key')), cert: fs.readFileSync(path.join(dir, 'server.pem')) };

    let live;
    const ctl = await lib.startController({ WebSocket, tls, onUpgrade: async (req, socket, head, wss) => { live = await lib.acceptJenkins(wss, req, socket, head); } });
    check(ctl.url.startsWith('https://'), 'the controller stand-in serves https');

    let agent = new Kite(kite, baseArgs(ctl.url, ['-noReconnect']));
    let exit = await agent.exit(15000);
    check(/certificate/i.test(agent.log) && /-cert/.test(agent.log), 'without -cert the private CA is rejected and -cert is suggested');
    check(exit.code !== 0, 'without -cert kite fails');

    for (const extra of [['-cert', `@${path.join(dir, 'ca.pem')}`], ['-noCertificateCheck']]) {
      agent = new Kite(kite, baseArgs(ctl.url, extra));
      await agent.waitFor(/online/, 15000);
      const commands = lib.collectCommands(live);
      const cmd = lib.makeCommand(50000, 5);
      check((await roundTrip(live, commands, () => { for (const c of lib.toChunks(cmd)) live.send(c); })).equals(cmd), `echo over TLS with ${extra[0]}`);
      await agent.stop();
    }
    ctl.server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  },

  // An HTTP proxy that requires Basic authentication, reached through http_proxy.
  async proxy(kite) {
    let live;
    const ctl = await lib.startController({ WebSocket, onUpgrade: async (req, socket, head, wss) => { live = await lib.acceptJenkins(wss, req, socket, head); } });
    const tunnels = [];
    const proxy = lib.http.createServer((req, res) => { res.writeHead(405); res.end(); });
    proxy.on('connect', (req, client, head) => {
      const auth = req.headers['proxy-authorization'];
      if (auth !== `Basic ${Buffer.from('proxyuser:proxy pass').toString('base64')}`) {
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      tunnels.push(req.url);
      const [host, port] = req.url.split(':');
      const upstream = lib.net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    const proxyPort = await lib.listen(proxy);
    const proxyEnv = { HTTP_PROXY: `http://127.0.0.1:${proxyPort}` };

    let agent = new Kite(kite, baseArgs(ctl.url, ['-noReconnect']), proxyEnv);
    await agent.waitFor(/proxy requires authentication \(407\); check -proxyCredentials/, 15000);
    await agent.stop();
    check(true, 'without credentials the 407 is reported');

    agent = new Kite(kite, baseArgs(ctl.url, ['-proxyCredentials', 'proxyuser:proxy pass']), proxyEnv);
    await agent.waitFor(/online/, 15000);
    check(tunnels.includes(`127.0.0.1:${ctl.port}`), 'kite reached the controller through CONNECT');
    check(!agent.log.includes('proxy pass'), 'the proxy password is not logged');
    const commands = lib.collectCommands(live);
    const cmd = lib.makeCommand(20000, 9);
    check((await roundTrip(live, commands, () => { for (const c of lib.toChunks(cmd)) live.send(c); })).equals(cmd), 'echo through the proxy');
    await agent.stop();

    const before = tunnels.length;
    agent = new Kite(kite, baseArgs(ctl.url), { ...proxyEnv, no_proxy: '127.0.0.1' });
    await agent.waitFor(/online/, 15000);
    check(tunnels.length === before, 'no_proxy=127.0.0.1 bypasses the proxy');
    await agent.stop();
    proxy.close();
    ctl.server.close();
  },

  // Two nodes from a JSON file in one process; SIGHUP reopens the log file.
  async config(kite) {
    const seen = [];
    const sockets = [];
    const ctl = await lib.startController({
      WebSocket,
      onUpgrade: async (req, socket, head, wss) => {
        seen.push(req.headers);
        sockets.push(await lib.acceptJenkins(wss, req, socket, head));
      },
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kite-config-'));
    fs.writeFileSync(path.join(dir, 'one.secret'), `${lib.SECRET}\n`, { mode: 0o600 });
    const logFile = path.join(dir, 'kite.log');
    fs.writeFileSync(path.join(dir, 'kite.json'), JSON.stringify({
      logFile,
      session: 'echo',
      nodes: [
        { url: ctl.url, name: 'node-one', secretFile: path.join(dir, 'one.secret'), workDir: path.join(dir, 'w1') },
        { url: ctl.url, name: 'node-two', secretEnv: 'KITE_TEST_SECRET_TWO', labels: ['linux'] },
      ],
    }));
    const agent = new Kite(kite, ['--config', path.join(dir, 'kite.json')], { KITE_TEST_SECRET_TWO: 'second-secret' });
    await agent.waitFor(/\[node-one\] online/);
    await agent.waitFor(/\[node-two\] online/);
    const byName = Object.fromEntries(seen.map((h) => [h['node-name'], h['secret-key']]));
    check(byName['node-one'] === lib.SECRET, 'node-one uses the secret from its secretFile');
    check(byName['node-two'] === 'second-secret', 'node-two uses the secret from its secretEnv variable');
    check(fs.statSync(path.join(dir, 'w1', 'remoting', 'logs')).isDirectory(), 'node-one gets its work directory');

    // logrotate: move the file away, send SIGHUP, the log continues in a new file.
    fs.renameSync(logFile, `${logFile}.1`);
    agent.child.kill('SIGHUP');
    await agent.waitFor(/SIGHUP: log file reopened/);
    await sleep(200);
    check(fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('SIGHUP: log file reopened'), 'SIGHUP reopens the log file');
    check(fs.readFileSync(`${logFile}.1`, 'utf8').includes('[node-one] online'), 'the rotated file keeps the earlier lines');

    const closes = sockets.map((ws) => new Promise((resolve) => ws.once('close', (code) => resolve(code))));
    const exit = await agent.stop();
    check(exit.code === 0, 'SIGTERM stops the daemon with status 0');
    check((await Promise.all(closes)).every((code) => code === 1000), 'both connections get a close frame with 1000');
    ctl.server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  },

  // The inbound-agent image's environment and positional arguments.
  async environment(kite) {
    const seen = [];
    const ctl = await lib.startController({ WebSocket, onUpgrade: async (req, socket, head, wss) => { seen.push(req.headers); await lib.acceptJenkins(wss, req, socket, head); } });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kite-env-'));
    let agent = new Kite(kite, ['--session', 'echo'], {
      JENKINS_URL: ctl.url, JENKINS_SECRET: lib.SECRET, JENKINS_AGENT_NAME: 'env-agent', JENKINS_WEB_SOCKET: 'true', JENKINS_AGENT_WORKDIR: dir,
    });
    await agent.waitFor(/online/);
    check(seen[0]['node-name'] === 'env-agent', 'JENKINS_AGENT_NAME names the agent');
    check(seen[0]['secret-key'] === lib.SECRET, 'JENKINS_SECRET is the secret');
    check(fs.statSync(path.join(dir, 'remoting', 'logs')).isDirectory(), 'JENKINS_AGENT_WORKDIR gets remoting/logs');
    await agent.stop();

    // Positional <secret> <name>; the literal secret is overwritten in the process arguments.
    agent = new Kite(kite, ['-url', ctl.url, '-webSocket', '--session', 'echo', lib.SECRET, 'positional-agent']);
    await agent.waitFor(/online/);
    check(seen[1]['node-name'] === 'positional-agent', 'positional arguments give secret and name');
    const cmdline = fs.readFileSync(`/proc/${agent.child.pid}/cmdline`, 'utf8');
    check(!cmdline.includes(lib.SECRET), 'the secret no longer shows in /proc/PID/cmdline');
    await agent.stop();

    agent = new Kite(kite, ['--session', 'echo'], { JENKINS_URL: ctl.url, JENKINS_SECRET: lib.SECRET, JENKINS_AGENT_NAME: 'x', JENKINS_DIRECT_CONNECTION: 'host:50000' });
    const exit = await agent.exit();
    check(exit.code === 2 && /TCP agent connections .* are not implemented in Kite yet/.test(agent.log), 'JENKINS_DIRECT_CONNECTION without WebSocket is one clear error');
    ctl.server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  },
};

const run = scenarios[scenario];
if (!kiteBinary || !run) fail(`usage: ws_agent_test.mjs KITE {${Object.keys(scenarios).join('|')}}`);
const timer = setTimeout(() => fail(`scenario ${scenario} timed out`), 90000);
run(kiteBinary).then(() => {
  clearTimeout(timer);
  console.log(`PASS: ${scenario}`);
  process.exit(0);
}, (e) => fail(e.stack || String(e)));
