// A Fastify HTTPS server that answers POST /validate with a fixed AdmissionReview and does nothing
// else: the floor that bench/https/run.ts measures `serve` against. Same Fastify, TLS settings and
// server options as the webhook (src/http/app.ts); prints its URL, then serves until killed.
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import { BODY_LIMIT, KEEP_ALIVE_TIMEOUT_MS, REQUEST_TIMEOUT_MS, tlsOptions } from '../../src/http/app.js';

const [cert, key] = [process.argv[2]!, process.argv[3]!];
const app = Fastify({
  logger: false,
  bodyLimit: BODY_LIMIT,
  keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  requestTimeout: REQUEST_TIMEOUT_MS,
  return503OnClosing: false,
  https: tlsOptions({ key: readFileSync(key), cert: readFileSync(cert), minVersion: 'TLSv1.2' }),
} as never);
const answer = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'x', allowed: true } };
app.post('/validate', async () => answer);
await app.listen({ host: '127.0.0.1', port: 0 });
const a = app.server.address();
console.log(`https://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`);
