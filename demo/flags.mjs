// The demo services' view of the flags that migrate's flag.set switches: the flagd-format flag
// file by default; with DEMO_UNLEASH_URL and DEMO_UNLEASH_TOKEN (a backend/client API token) in the
// environment, Unleash's client API instead, polled the way an Unleash SDK polls it.
/* global fetch */
import { readFile } from 'node:fs/promises';

/** How often the flag file is re-read. */
export const FLAG_POLL_MS = 200;

/**
 * ON when the flag's state is ENABLED and variants[defaultVariant] === true. A missing file or
 * flag is OFF; a file that cannot be read or parsed (e.g. written in place, half done) keeps the
 * last good value. With DEMO_UNLEASH_URL and DEMO_UNLEASH_TOKEN in `env`, `file` is not read:
 * Unleash's client API is (see unleashReader).
 */
export function flagWatcher(file, keys, onChange, env = process.env) {
  const values = Object.fromEntries(keys.map((k) => [k, false]));
  let stopped = false;
  let timer;
  const unleash = env.DEMO_UNLEASH_URL && env.DEMO_UNLEASH_TOKEN ? { url: env.DEMO_UNLEASH_URL.replace(/\/+$/, ''), token: env.DEMO_UNLEASH_TOKEN } : undefined;
  const update = (key, on) => {
    if (on !== values[key]) {
      values[key] = on;
      onChange(key, on);
    }
  };
  const read = unleash ? unleashReader(unleash, keys, update) : async () => {
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
      update(key, on);
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

/**
 * Unleash mode: GET /api/client/features (what SDKs fetch; If-None-Match makes an unchanged answer
 * a bodyless 304). ON when the flag is enabled in the token's environment and a strategy serves
 * someone (the API leaves disabled strategies out; a 0 % rollout serves nobody). A missing flag is
 * OFF; a failed request keeps the last good values.
 */
function unleashReader({ url, token }, keys, update) {
  let etag;
  return async () => {
    let res;
    try {
      res = await fetch(`${url}/api/client/features`, {
        headers: { Authorization: token, ...(etag ? { 'If-None-Match': etag } : {}) },
        signal: AbortSignal.timeout(2_000),
      });
    } catch {
      return;
    }
    if (res.status === 304 || !res.ok) return void (await res.body?.cancel());
    let body;
    try {
      body = await res.json();
    } catch {
      return;
    }
    etag = res.headers.get('etag') ?? undefined;
    const features = Array.isArray(body?.features) ? body.features : [];
    for (const key of keys) {
      const f = features.find((x) => x?.name === key);
      const serves = (f?.strategies ?? []).some((s) => !['rollout', 'percentage'].some((p) => s?.parameters?.[p] !== undefined && s.parameters[p] !== '' && Number(s.parameters[p]) === 0));
      update(key, Boolean(f?.enabled && serves));
    }
  };
}
