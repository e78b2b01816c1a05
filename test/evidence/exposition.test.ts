import t from 'tap';
import { edgesFromSamples, parseExposition } from '../../src/evidence/exposition.js';

t.test('parses names, labels with escapes, values and timestamps', async (t) => {
  const s = parseExposition(
    [
      '# HELP istio_requests_total Total requests.',
      '# TYPE istio_requests_total counter',
      'istio_requests_total{reporter="destination",source_workload="a\\"b",connection_security_policy="none"} 3 1700000000000',
      'up 1',
      'istio_tcp_connections_opened_total{reporter="source",} 2.5e1',
    ].join('\n'),
    'f',
  );
  t.same(
    s.map((x) => [x.name, x.value]),
    [
      ['istio_requests_total', 3],
      ['up', 1],
      ['istio_tcp_connections_opened_total', 25],
    ],
  );
  t.equal(s[0]!.labels['source_workload'], 'a"b');
});

t.test('keeps only Istio traffic metrics, and plaintext only from the destination reporter', async (t) => {
  const e = edgesFromSamples(
    parseExposition(
      [
        'istio_requests_total{reporter="destination",connection_security_policy="none",destination_service="h.f.svc.cluster.local"} 1',
        'istio_requests_total{reporter="destination",connection_security_policy="mutual_tls"} 1',
        'istio_requests_total{reporter="source",connection_security_policy="unknown"} 1',
        'istio_tcp_connections_opened_total{reporter="destination",connection_security_policy="unknown"} 1',
        'process_cpu_seconds_total 4',
      ].join('\n'),
      'f',
    ),
  );
  t.same(
    e.map((x) => x.plaintext),
    [true, false, false, true],
  );
  t.equal(e[3]!.sourceWorkload, 'unknown', 'missing source labels mean unknown');
});

for (const [line, why] of [
  ['istio_requests_total{reporter="destination" 3', 'unterminated label set'],
  ['istio_requests_total{reporter=destination} 3', 'unquoted label value'],
  ['istio_requests_total', 'no value'],
  ['istio_requests_total{} abc', 'value not a number'],
  ['{reporter="x"} 1', 'no name'],
] as const) {
  t.test(`rejects: ${why}`, async (t) => {
    t.throws(() => parseExposition(`ok 1\n${line}`, 'm.prom'), { code: 'E_INPUT', message: /^m\.prom:2: / });
  });
}
