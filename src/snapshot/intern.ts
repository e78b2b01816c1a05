import { createHash } from 'node:crypto';
import { asObject, type Json } from '../core/objects.js';

/**
 * Shares equal projections. The Pods of one owner differ only in their names, so everything but
 * the name is one object for all of them. Entries go away with the last projection that uses them
 * (weak references), so churn does not leak; keys are digests, so a large spec is not held twice.
 */
export class Interner {
  private readonly objects = new Map<string, WeakRef<object>>();
  private readonly registry = new FinalizationRegistry<string>((key) => {
    if (!this.objects.get(key)?.deref()) this.objects.delete(key);
  });

  /** The shared copy of a JSON object equal to `v` (v itself the first time). */
  share<T extends object>(v: T): T {
    const key = createHash('sha256').update(JSON.stringify(v)).digest('base64');
    const hit = this.objects.get(key)?.deref();
    if (hit) return hit as T;
    this.objects.set(key, new WeakRef(v));
    this.registry.register(v, key);
    return v;
  }
}

/** A projection as kept: its name, and the rest shared with every projection equal but for the name. */
export interface Compact {
  readonly name: string;
  readonly shape: Json;
}

/**
 * Splits a pruned projection into its name and its shape, shared through the interner when one
 * is given. Only kinds whose objects repeat (the Pods of one owner) are worth interning; for the
 * others a digest per object would cost more than it saves.
 */
export function compact(o: Json, i: Interner | null): Compact {
  const md = asObject(o['metadata']);
  const { name, ...rest } = md;
  const shape = { ...o, metadata: rest };
  return { name: typeof name === 'string' ? name : '', shape: i ? i.share(shape) : shape };
}

/** True when two shapes are equal as JSON (an interned pair is simply the same object). */
export function sameShape(a: Json, b: Json): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** The projection again, for a rebuild. */
export function materialize(c: Compact): Json {
  return { ...c.shape, metadata: { ...(c.shape['metadata'] as Json), name: c.name } };
}

/**
 * Projections of one kind by namespace and name. Two levels, so that no `namespace/name` key is
 * built and held per object: the name string is the one the projection keeps anyway.
 */
export class Store {
  /** Shapes by namespace, then name: the name is the map's key, with no object per entry. */
  private readonly byNs = new Map<string, Map<string, Json>>();
  /** How many stored projections use each shape, when counted. */
  private readonly uses = new Map<Json, number>();

  /** `counted`: keep use counts of shapes (for interned kinds, whose shapes repeat). */
  constructor(private readonly counted = false) {}

  set(ns: string, c: Compact): void {
    let m = this.byNs.get(ns);
    if (!m) this.byNs.set(ns, m = new Map());
    const prev = m.get(c.name);
    if (prev) this.release(prev);
    m.set(c.name, c.shape);
    if (this.counted) this.uses.set(c.shape, (this.uses.get(c.shape) ?? 0) + 1);
  }

  delete(ns: string, name: string): void {
    const m = this.byNs.get(ns);
    const prev = m?.get(name);
    if (!m || !prev) return;
    m.delete(name);
    this.release(prev);
    if (m.size === 0) this.byNs.delete(ns);
  }

  /** The stored projection of an object, if any. */
  get(ns: string, name: string): Compact | undefined {
    const shape = this.byNs.get(ns)?.get(name);
    return shape ? { name, shape } : undefined;
  }

  /** How many stored projections share a shape. */
  usesOf(shape: Json): number {
    return this.uses.get(shape) ?? 0;
  }

  private release(shape: Json): void {
    if (!this.counted) return;
    const n = (this.uses.get(shape) ?? 0) - 1;
    if (n > 0) this.uses.set(shape, n);
    else this.uses.delete(shape);
  }

  *values(): IterableIterator<Compact> {
    for (const m of this.byNs.values()) for (const [name, shape] of m) yield { name, shape };
  }
}
