import type { RunEvent } from '../engine/events.js';

/** Turns run events into output: human lines or NDJSON. */
export interface Renderer {
  event(e: RunEvent): void;
  /** A prompt for this gate is about to use the terminal; call the returned function when it is answered. */
  prompting?(step: string): () => void;
  /** The run is over (or broke off): leave the final screen. */
  close?(): void;
}
