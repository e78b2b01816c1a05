import type { IstioObject, Labels, Mode } from '../model/model.js';
import { MODES } from '../model/model.js';
import type { MeshIndex } from '../mesh/mesh-index.js';

/** The namespace label that sets the mode (DESIGN.md §4). */
export const MODE_LABEL = 'mtls-guard.io/mode';

/**
 * The annotation that turns a deny into warnings. It holds only for the request that adds or
 * changes it, with a real reason, from a user allowed to acknowledge breakages (DESIGN.md §4).
 */
export const ACK_ANNOTATION = 'mtls-guard.io/acknowledge-breakage';

/** The shortest acknowledgement reason accepted, in characters after trimming. */
export const ACK_REASON_MIN = 10;

/** The mode in force for an object, and where it came from. */
export interface ModeDecision {
  readonly mode: Mode;
  readonly source: string;
  /** Set when the label holds a value that is not a mode; the default then applies. */
  readonly invalid?: string;
}

/**
 * The mode for an object: the label on its namespace; for mesh-wide objects (root namespace,
 * MeshPolicy) the label on the root namespace; else the configured default. `liveLabels`, when
 * it knows the namespace, is read instead of the index: a source that sees label changes before
 * its next index (the live snapshot) passes it, so that a new mode holds at once.
 */
export function modeFor(idx: MeshIndex, o: IstioObject, dflt: Mode, liveLabels?: (ns: string) => Labels | undefined): ModeDecision {
  const ns = o.namespace || idx.root;
  const v = (liveLabels?.(ns) ?? idx.namespace(ns)?.labels)?.[MODE_LABEL];
  if (v === undefined) return { mode: dflt, source: 'default' };
  if ((MODES as readonly string[]).includes(v)) return { mode: v as Mode, source: `namespace ${ns} label ${MODE_LABEL}=${v}` };
  return {
    mode: dflt,
    source: 'default',
    invalid: `namespace ${ns} has ${MODE_LABEL}=${JSON.stringify(v)}, which is not one of ${MODES.join(', ')}; using ${dflt}`,
  };
}

/**
 * How strongly each mode guards, strongest first (DESIGN.md §4: enforce > warn > dry-run > off).
 * Moving a namespace down this order is a weakening, which needs a permission an admin granted.
 */
export const MODE_STRENGTH: Readonly<Record<Mode, number>> = { enforce: 3, warn: 2, 'dry-run': 1, off: 0 };

/** The mode a namespace label value sets: the value when it is a mode, else (missing or unknown) the default. */
export function labelMode(value: string | undefined, dflt: Mode): Mode {
  return value !== undefined && (MODES as readonly string[]).includes(value) ? (value as Mode) : dflt;
}

/** True when going from `from` to `to` guards less. */
export function weakens(from: Mode, to: Mode): boolean {
  return MODE_STRENGTH[to] < MODE_STRENGTH[from];
}
