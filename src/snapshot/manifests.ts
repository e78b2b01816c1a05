import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { InputError } from '../core/model/errors.js';
import { isObject, type Json } from '../core/model/objects.js';

/** One Kubernetes object read from a file, with where it came from. */
export interface LoadedDoc {
  readonly obj: Json;
  readonly file: string;
  /** 1-based document number in the file. */
  readonly doc: number;
  /** 1-based item number when the document is a List. */
  readonly item?: number;
}

const EXTENSIONS = /\.(ya?ml|json)$/i;

async function filesUnder(path: string): Promise<string[]> {
  let s: Awaited<ReturnType<typeof stat>>;
  try {
    s = await stat(path);
  } catch {
    throw new InputError(`${path}: no such file or directory`);
  }
  if (s.isFile()) return [path];
  if (!s.isDirectory()) throw new InputError(`${path}: not a file or directory`);
  const out: string[] = [];
  const entries = (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const p = join(path, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (EXTENSIONS.test(e.name)) out.push(p);
  }
  return out;
}

/** Parses YAML or JSON text with one or more documents; `List` kinds are flattened into their items. */
export function parseManifests(text: string, file: string): LoadedDoc[] {
  const out: LoadedDoc[] = [];
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  if (!Array.isArray(docs)) return out;
  docs.forEach((d, i) => {
    const doc = i + 1;
    const err = d.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line;
      throw new InputError(`${file} (document ${doc}${line ? `, line ${line}` : ''}): malformed YAML: ${err.message.split('\n')[0]}`);
    }
    const value: unknown = d.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (!isObject(value))
      throw new InputError(
        `${file} (document ${doc}): expected a Kubernetes object, got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`,
      );
    if (typeof value['kind'] === 'string' && value['kind'].endsWith('List') && Array.isArray(value['items'])) {
      value['items'].forEach((it, j) => {
        if (!isObject(it)) throw new InputError(`${file} (document ${doc}, item ${j + 1}): expected a Kubernetes object`);
        out.push({ obj: it, file, doc, item: j + 1 });
      });
      return;
    }
    out.push({ obj: value, file, doc });
  });
  return out;
}

/**
 * Reads every YAML or JSON file under the given paths (files or directories, recursively, in name
 * order). Throws InputError naming the file and document on unreadable or malformed input.
 */
export async function loadManifests(paths: readonly string[]): Promise<LoadedDoc[]> {
  const out: LoadedDoc[] = [];
  for (const p of paths) {
    for (const f of await filesUnder(p)) {
      let text: string;
      try {
        text = await readFile(f, 'utf8');
      } catch (e) {
        throw new InputError(`${f}: cannot read: ${(e as Error).message}`);
      }
      out.push(...parseManifests(text, f));
    }
  }
  return out;
}

/** The location of a loaded document, for errors. */
export function docLocation(d: LoadedDoc): { file: string; doc: number; item?: number } {
  return d.item !== undefined ? { file: d.file, doc: d.doc, item: d.item } : { file: d.file, doc: d.doc };
}
