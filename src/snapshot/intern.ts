import { asObject, type Json } from '../core/model/objects.js';

/**
 * A projection as kept: its name, and the rest as JSON text. Text costs about a third of the
 * object tree it stands for, is compared by value, and is read only when the index is rebuilt.
 */
export interface Compact {
  readonly name: string;
  readonly shape: string;
}

/** Splits a pruned projection into its name and the text of everything else. */
export function compact(o: Json): Compact {
  const { name, ...rest } = asObject(o['metadata']);
  return { name: typeof name === 'string' ? name : '', shape: JSON.stringify({ ...o, metadata: rest }) };
}

/**
 * Turns kept projections back into objects, for a rebuild. Projections that share a shape (the
 * Pods of one owner) share one parsed copy of it, so a rebuild parses each shape once.
 */
export function materializer(): (c: Compact) => Json {
  const parsed = new Map<string, Json>();
  return (c) => {
    let o = parsed.get(c.shape);
    if (!o) parsed.set(c.shape, (o = JSON.parse(c.shape) as Json));
    return { ...o, metadata: { ...asObject(o['metadata']), name: c.name } };
  };
}

/**
 * Projections of one kind by namespace and name. Two levels, so that no `namespace/name` key is
 * built and held per object: the name string is the one the projection keeps anyway.
 */
export class Store {
  /** Shapes by namespace, then name: the name is the map's key, with no object per entry. */
  private readonly byNs = new Map<string, Map<string, string>>();
  /** For shared kinds: each distinct shape's one kept copy, and how many projections use it. */
  private readonly shared = new Map<string, { readonly text: string; n: number }>();

  /**
   * `sharing`: projections of this kind repeat (every Pod of an owner has one shape), so equal
   * shapes are kept once and counted.
   */
  constructor(private readonly sharing = false) {}

  /** Stores a projection, and returns it as kept (with the shared copy of its shape). */
  set(ns: string, c: Compact): Compact {
    let m = this.byNs.get(ns);
    if (!m) this.byNs.set(ns, (m = new Map()));
    const prev = m.get(c.name);
    let shape = c.shape;
    if (this.sharing) {
      const s = this.shared.get(shape);
      if (s) {
        s.n++;
        shape = s.text;
      } else this.shared.set(shape, { text: shape, n: 1 });
    }
    m.set(c.name, shape);
    if (prev !== undefined) this.release(prev);
    return shape === c.shape ? c : { name: c.name, shape };
  }

  delete(ns: string, name: string): void {
    const m = this.byNs.get(ns);
    const prev = m?.get(name);
    if (!m || prev === undefined) return;
    m.delete(name);
    this.release(prev);
    if (m.size === 0) this.byNs.delete(ns);
  }

  /** The stored projection of an object, if any. */
  get(ns: string, name: string): Compact | undefined {
    const shape = this.byNs.get(ns)?.get(name);
    return shape === undefined ? undefined : { name, shape };
  }

  /** How many stored projections share a shape (for shared kinds). */
  usesOf(shape: string): number {
    return this.shared.get(shape)?.n ?? 0;
  }

  private release(shape: string): void {
    const s = this.sharing ? this.shared.get(shape) : undefined;
    if (s && --s.n === 0) this.shared.delete(shape);
  }

  *values(): IterableIterator<Compact> {
    for (const m of this.byNs.values()) for (const [name, shape] of m) yield { name, shape };
  }
}
