import { readFile } from 'node:fs/promises';
import type { Traffic } from '../core/model/model.js';
import { InputError } from '../core/model/errors.js';
import { edgesFromSamples, parseExposition } from './exposition.js';

/** Reads observed traffic from a file in the Prometheus text exposition format. */
export async function trafficFromFile(path: string): Promise<Traffic> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(`${path}: cannot read telemetry: ${(e as Error).message}`);
  }
  return { edges: edgesFromSamples(parseExposition(text, path)), source: path };
}
