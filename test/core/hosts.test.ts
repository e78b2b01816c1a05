import t from 'tap';
import { compareSpecificity, hostMatches, resolveShortName } from '../../src/core/mesh/hosts.js';
import { atLeast, features, parseVersion } from '../../src/core/mesh/version.js';

t.test('short names (istio-semantics.md §3.3)', async (t) => {
  for (const [host, ns, want] of [
    ['reviews', 'default', 'reviews.default.svc.cluster.local'],
    ['reviews.prod', 'default', 'reviews.prod'],
    ['*.local', 'foo', '*.local'],
    ['*', 'foo', '*'],
  ] as const)
    t.equal(resolveShortName(host, ns, 'cluster.local'), want, `${host} in ${ns}`);
});

t.test('wildcard matching and specificity', async (t) => {
  t.ok(hostMatches('*.local', 'a.b.svc.cluster.local'));
  t.ok(hostMatches('*', 'example.com'));
  t.notOk(hostMatches('*.foo.svc.cluster.local', 'a.bar.svc.cluster.local'));
  t.notOk(hostMatches('reviews.prod', 'reviews.prod.svc.cluster.local'));
  const sorted = ['*', '*.local', 'a.foo.svc.cluster.local', '*.foo.svc.cluster.local', '*.bar.svc.cluster.local'].sort(compareSpecificity);
  t.same(sorted, ['a.foo.svc.cluster.local', '*.bar.svc.cluster.local', '*.foo.svc.cluster.local', '*.local', '*']);
});

t.test('versions and their switches', async (t) => {
  t.same(parseVersion('1.20.0-distroless'), { major: 1, minor: 20, patch: 0, raw: '1.20.0-distroless' });
  t.equal(parseVersion('latest'), null);
  t.ok(atLeast(parseVersion('v1.12')!, 1, 12));
  t.same(
    [
      features(parseVersion('1.4.6')!).autoMtlsDefault,
      features(parseVersion('1.5.0')!).autoMtlsDefault,
      features(parseVersion('1.3.0')!).autoMtlsAvailable,
    ],
    [false, true, false],
  );
  t.same([features(parseVersion('1.5.0')!).legacyPolicies, features(parseVersion('1.6.0')!).legacyPolicies], [true, false]);
  t.same(
    [features(parseVersion('1.11.0')!).autoMtlsChecksWorkloadPolicy, features(parseVersion('1.12.0')!).autoMtlsChecksWorkloadPolicy],
    [false, true],
  );
  t.ok(features(parseVersion('1.0.4')!).drGlobalLookup);
});
