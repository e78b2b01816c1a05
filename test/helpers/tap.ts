import type t from 'tap';

/** The test object a tap callback receives, for helpers that take one. */
export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0];
