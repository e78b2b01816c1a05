/**
 * The memo machinery of a mesh index: what the engine remembers while it judges, grouped by what
 * it depends on, so that an index derived from a change keeps what the change cannot alter and
 * drops the rest. Nothing here knows Istio; `mesh-index.ts` owns the layers and hands them on.
 */

/**
 * What a memo table depends on: `static` on workloads and services only (shared by every index
 * derived from one snapshot), `views` on client classes and DR views, `dr` on DestinationRules,
 * `auth` on PeerAuthentications and legacy policies, `own` on everything (one index alone).
 */
export type MemoLayer = 'static' | 'views' | 'dr' | 'auth' | 'own';

/** The layers, in slot order. */
export const LAYERS: readonly MemoLayer[] = ['static', 'views', 'dr', 'auth', 'own'];

/**
 * Every memo table keyed by objects, as `layer:name`. A table's slot is its place in this list:
 * an index finds a table's map by position, with no key string, on paths that run per endpoint.
 * Keyed by immutable objects, `weak` tables hold nothing their keys do not: a table of the static
 * layer, shared for the life of a snapshot, must not keep the policies of every request alive.
 */
export const MEMO_TABLES = [
  'auth:ambientModes',
  'auth:legacy',
  'auth:serverMode',
  'auth:serviceMode',
  'auth:shape',
  'dr:groups',
  'dr:host',
  'dr:resolution',
  'dr:sharedRule',
  'dr:undecided',
  'own:outcome',
  'static:bareHosts',
  'static:callers',
  'static:declared',
  'static:declaredInto',
  'static:dialled',
  'static:edges',
  'static:endpoints',
  'static:portLabels',
  'static:portRefs',
  'static:protocol',
  'static:routes',
  'static:serviceLabels',
  'static:sidecarScope',
  'static:verdicts',
  'static:wildcardForms',
  'views:alone',
  'views:classKey',
  'views:classNames',
  'views:represented',
  'views:representedTotals',
  'views:viewsMatching',
  // Weak: keyed by objects that outlive no change (policies, rules, lists a change makes).
  'static:policyModes',
  'static:portModes',
  'static:workloadPolicies',
  'static:drResolutions',
  'static:sidecarLists',
  'static:listCallers',
  'own:growable',
] as const;

/** A memo table's name, as the list above has it. */
export type MemoTableName = (typeof MEMO_TABLES)[number];

/** A memo table keyed by objects: its layer, its slot there, and whether its keys are held weakly. */
export interface MemoTable<K extends object, V> {
  readonly layer: MemoLayer;
  /** The layer's index in `LAYERS`. */
  readonly layerIndex: number;
  readonly slot: number;
  /** For reading heap snapshots and debuggers only. */
  readonly name: string;
  /** Carries the key and value types; never set. */
  readonly types?: [K, V];
}

/** Declares a memo table, once per module: `MeshIndex.memo` (or `weakMemo`) then finds its map by slot. */
export function memoTable<K extends object, V>(name: MemoTableName): MemoTable<K, V> {
  const layer = name.slice(0, name.indexOf(':')) as MemoLayer;
  return { layer, layerIndex: LAYERS.indexOf(layer), slot: MEMO_TABLES.indexOf(name), name };
}

/** One memo layer: values by key, and tables keyed by objects, by slot. */
export interface Layer {
  readonly values: Map<string, unknown>;
  readonly slots: (Map<unknown, unknown> | WeakMap<object, unknown> | undefined)[];
}

/** An empty layer. */
export function newLayer(): Layer {
  return { values: new Map(), slots: [] };
}
