import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { apiStatusOf, ConfigError, InputError } from '../core/model/errors.js';
import { EXIT, type Io } from './io.js';
import { loadKubeConfig } from '../snapshot/kubeconfig.js';

/**
 * `mtls-guard unregister --webhook-configuration NAME`: deletes the webhook configuration, so that
 * an uninstall can never leave a webhook behind that blocks Istio changes. The chart's pre-delete
 * hook runs it. A configuration that is already gone is success.
 */
export async function runUnregister(argv: readonly string[], io: Io): Promise<number> {
  let v: Record<string, unknown>;
  try {
    ({ values: v } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'webhook-configuration': { type: 'string', multiple: true },
        kubeconfig: { type: 'string' },
      },
    }));
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const names = (v['webhook-configuration'] as string[] | undefined) ?? [];
  if (names.length === 0) throw new ConfigError('unregister needs --webhook-configuration NAME');
  const api = loadKubeConfig(v['kubeconfig'] as string | undefined).makeApiClient(k8s.AdmissionregistrationV1Api);
  for (const name of names) {
    try {
      await api.deleteValidatingWebhookConfiguration({ name });
      io.err(`deleted ValidatingWebhookConfiguration ${name}\n`);
    } catch (e) {
      if (apiStatusOf(e) !== 404)
        throw new InputError(
          `deleting ValidatingWebhookConfiguration ${name} failed (HTTP ${apiStatusOf(e) ?? '?'}): ${(e as Error).message.slice(0, 300)}`,
        );
      io.err(`ValidatingWebhookConfiguration ${name} is already gone\n`);
    }
  }
  return EXIT.ok;
}
