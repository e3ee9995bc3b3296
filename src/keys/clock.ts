/** Milliseconds since the epoch. Injected wherever time decides an outcome, so tests can drive it. */
export type Clock = () => number;

/** The wall clock. */
export const systemClock: Clock = () => Date.now();
