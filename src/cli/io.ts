/** Where a command writes. Tests pass buffers; main passes the process streams. */
export interface Io {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
}

/** Exit codes (DESIGN.md §7). */
export const EXIT = { ok: 0, denied: 1, badInput: 2 } as const;
