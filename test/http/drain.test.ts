// Shutting down without failing a request: during the drain every answer closes its connection and
// idle keep-alive connections are ended, so keep-alive clients under load, moved to another
// replica as endpoints drop this one, see no failed request across the shutdown.
import t from 'tap';
import { Agent, request } from 'node:https';
import { performance } from 'node:perf_hooks';
import { connect } from 'node:tls';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { makeCerts } from '../../src/cli/certs.js';
import { startServer, type Running } from '../../src/cli/serve.js';
import { parseServeArgs } from '../../src/config/serve.js';

const dir = mkdtempSync(join(tmpdir(), 'mtls-guard-drain-'));
await makeCerts({ out: dir, service: 'mtls-guard', namespace: 'mtls-guard', ips: ['127.0.0.1'], dnsNames: [] }, new Date());
const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
const body = readFileSync('examples/reviews/allowed.json', 'utf8');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serve(drainSeconds: number): Promise<Running> {
  return startServer(
    parseServeArgs(
      [
        '--listen',
        '127.0.0.1:0',
        '--tls-cert',
        join(dir, 'tls.crt'),
        '--tls-key',
        join(dir, 'tls.key'),
        '--cluster',
        'examples/mesh-current',
        '--cluster',
        'examples/webhook-demo',
        '--log-level',
        'silent',
        '--drain-seconds',
        String(drainSeconds),
      ],
      {},
    ),
    { out: () => {}, err: () => {} },
  );
}

interface Answer {
  status: number;
  connection: string | undefined;
  error?: string;
}

function post(url: string, agent: Agent, path = '/validate'): Promise<Answer> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const r = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: path === '/validate' ? 'POST' : 'GET',
        ca,
        servername: 'mtls-guard',
        agent,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      },
    );
    r.on('error', (e) => resolve({ status: 0, connection: undefined, error: e.message }));
    r.end(path === '/validate' ? body : undefined);
  });
}

t.test('keep-alive clients under load see no failed request across a shutdown', async (t) => {
  const a = await serve(2);
  const b = await serve(0);
  t.teardown(() => b.shutdown('test'));
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let target = a.url;
  let stop = false;
  // When each request started and ended, against when the shutdown began.
  const answers: (Answer & { to: string; sent: number; done: number })[] = [];
  let shutdownAt = Infinity;
  // The endpoints controller's part: once A reports not ready, new requests go to B.
  const watcher = (async () => {
    const probe = new Agent({ keepAlive: false });
    while (!stop && target === a.url) {
      const r = await post(a.url, probe, '/readyz');
      if (r.status !== 200) {
        await sleep(300);
        target = b.url;
      }
      await sleep(50);
    }
  })();
  const clients = Array.from({ length: 8 }, async () => {
    while (!stop) {
      const to = target;
      const sent = performance.now();
      const a2 = await post(to, agent);
      answers.push({ ...a2, to, sent, done: performance.now() });
    }
  });
  await sleep(500);
  shutdownAt = performance.now();
  const closed = a.shutdown('SIGTERM');
  await closed;
  await sleep(500);
  stop = true;
  await Promise.all([...clients, watcher]);
  agent.destroy();
  const failed = answers.filter((x) => x.status !== 200);
  t.ok(answers.length > 100, `${answers.length} requests`);
  const duringDrain = answers.filter((x) => x.to === a.url && x.sent > shutdownAt);
  t.ok(duringDrain.length > 0, `A answered ${duringDrain.length} requests during its drain`);
  t.ok(
    answers.some((x) => x.to === b.url),
    'B took over',
  );
  t.same(failed.slice(0, 5), [], `${failed.length} failed`);
  t.ok(
    duringDrain.every((x) => x.connection === 'close'),
    'every answer during the drain says Connection: close',
  );
  t.ok(
    answers.filter((x) => x.done < shutdownAt).every((x) => x.connection === 'keep-alive'),
    'before it, connections are kept alive',
  );
});

t.test('an idle keep-alive connection is ended during the drain, before the server closes', async (t) => {
  const a = await serve(4);
  const u = new URL(a.url);
  const events: string[] = [];
  const socket = connect({ host: u.hostname, port: Number(u.port), ca, servername: 'mtls-guard' });
  await new Promise((r) => socket.once('secureConnect', r));
  socket.write(`GET /healthz HTTP/1.1\r\nHost: mtls-guard\r\nConnection: keep-alive\r\n\r\n`);
  await new Promise((r) => socket.once('data', r));
  const ended = new Promise<number>((r) => socket.once('end', () => r(Date.now())));
  socket.on('error', (e) => events.push(e.message));
  const start = Date.now();
  const closed = a.shutdown('SIGTERM').then(() => Date.now());
  const endedAt = await ended;
  t.ok(endedAt - start < 3000, `ended ${endedAt - start} ms into a 4 s drain`);
  t.ok((await closed) >= endedAt, 'before the server closed');
  t.same(events, [], 'ended cleanly, not reset');
  socket.destroy();
});
