// The demo services' view of the flagd-format flag file that migrate's flag.set switches.
import { readFile } from 'node:fs/promises';

/** How often the flag file is re-read. */
export const FLAG_POLL_MS = 200;

/**
 * ON when the flag's state is ENABLED and variants[defaultVariant] === true. A missing file or
 * flag is OFF; a file that cannot be read or parsed (e.g. written in place, half done) keeps the
 * last good value.
 */
export function flagWatcher(file, keys, onChange) {
  const values = Object.fromEntries(keys.map((k) => [k, false]));
  let stopped = false;
  let timer;
  const read = async () => {
    let doc;
    try {
      doc = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      if (err.code === 'ENOENT') doc = {};
      else return; // partial or unreadable: keep the last good values
    }
    if (doc === null || typeof doc !== 'object') return;
    const flags = doc.flags && typeof doc.flags === 'object' ? doc.flags : {};
    for (const key of keys) {
      const f = Object.hasOwn(flags, key) ? flags[key] : undefined;
      const on = Boolean(
        f && f.state === 'ENABLED' && f.variants && typeof f.defaultVariant === 'string' && Object.hasOwn(f.variants, f.defaultVariant) && f.variants[f.defaultVariant] === true,
      );
      if (on !== values[key]) {
        values[key] = on;
        onChange(key, on);
      }
    }
  };
  const loop = async () => {
    await read();
    if (!stopped) timer = setTimeout(loop, FLAG_POLL_MS);
  };
  return {
    values,
    start: loop,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
