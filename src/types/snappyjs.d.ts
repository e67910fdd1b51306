// snappyjs ships no types; the one function we use.
declare module 'snappyjs' {
  /** Decompresses one raw snappy block; a Buffer in gives a Buffer out. */
  export function uncompress<T extends Uint8Array | ArrayBuffer>(compressed: T, maxLength?: number): T;
  const snappy: { uncompress: typeof uncompress };
  export default snappy;
}
