// `npm start`: the demo webhook prints a curl line, and that request is denied with a clear message.
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';

t.test('the demo serves the example mesh and the printed curl gets a denial', async (t) => {
  const child = spawn(process.execPath, ['dist/src/cli/main.js', 'demo', '--listen', '127.0.0.1:0', '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const curl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no curl line; got: ${out}`)), 60_000);
    child.stdout.on('data', () => {
      const m = /curl -s --cacert (\S+) -H 'Content-Type: application\/json' (https:\/\/\S+\/validate) -d @(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
  });
  const [, caFile, url, reviewFile] = /--cacert (\S+) .* (https:\/\/\S+) -d @(\S+)/.exec(curl)!;
  const body = readFileSync(reviewFile!, 'utf8');
  const res = await new Promise<{ status: number; json: any }>((resolve, reject) => {
    const req = https.request(url!, { method: 'POST', ca: readFileSync(caFile!), headers: { 'content-type': 'application/json' } }, (r) => {
      let s = '';
      r.on('data', (d) => {
        s += d;
      });
      r.on('end', () => resolve({ status: r.statusCode ?? 0, json: JSON.parse(s) }));
    });
    req.on('error', reject);
    req.end(body);
  });
  t.equal(res.status, 200);
  t.equal(res.json.response.allowed, false, 'denied');
  t.match(
    res.json.response.status.message,
    /PeerAuthentication foo\/default \(STRICT\) would break 1 connection \(1 observed\): sleep\.legacy -> httpbin\.foo:8000 \(200 → 000\)\. Why: .* Fix: inject a sidecar into legacy\/sleep/,
  );
  child.kill('SIGTERM');
  const code = await new Promise((r) => child.on('exit', r));
  t.equal(code, 0, 'a SIGTERM ends the demo cleanly');
});
