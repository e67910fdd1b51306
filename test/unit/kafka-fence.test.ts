// Which records of the state topic a reader believes (src/state/kafka-fence.ts), on logs laid out
// by hand the way holders, a late writer and a held-up claim would leave them.
import { describe, expect, it } from 'vitest';
import { fencedValue, parseSessionKey, resolveRuns, sessionKey, type FenceInput } from '../../src/state/kafka-fence.js';

/** A record of `run`'s session (token, nonce) at `offset`: its claim (seq 0) or a later write naming the claim's offset. */
function rec(offset: number, run: string, token: number, nonce: string, seq: number, claim: number | undefined, step: string): FenceInput {
  const fence = { token, seq, ...(claim === undefined ? {} : { claim }) };
  return { offset, key: sessionKey(run, token, nonce), value: fencedValue({ name: run, step }, fence) };
}

/** What the reader makes of the records, kept last per key as the store's view (and compaction) keeps them. */
function resolve(records: FenceInput[]) {
  const last = new Map<string, FenceInput>();
  for (const r of records) last.set(r.key, r);
  const out = resolveRuns(last.values()).get('r');
  return {
    step: out?.state && (JSON.parse(out.state.value.toString('utf8')) as { step: string }).step,
    token: out?.session.token,
    fenced: out?.fenced.map((f) => [f.offset, f.why]),
    superseded: out?.superseded,
  };
}

describe('run-store fencing', () => {
  it('keys: a session key round-trips; a bare run name is the unfenced session', () => {
    expect(parseSessionKey(sessionKey('sync-to-async.orders', 42, 'ab12'))).toEqual({ run: 'sync-to-async.orders', token: 42, nonce: 'ab12' });
    expect(parseSessionKey('orders')).toEqual({ run: 'orders', token: -1, nonce: '' });
    expect(parseSessionKey('orders@x')).toBeUndefined();
  });

  it('one holder: its latest write is the state', () => {
    expect(resolve([rec(0, 'r', 0, 'a', 0, undefined, 'claim'), rec(1, 'r', 0, 'a', 1, 0, 's1'), rec(2, 'r', 0, 'a', 2, 0, 's2')])).toMatchObject({
      step: 's2',
      token: 0,
      fenced: [],
    });
  });

  it('a late write of the old holder, landing after the new holder claimed, is ignored and reported', () => {
    const log = [
      rec(0, 'r', 0, 'a', 0, undefined, 'claim A'),
      rec(1, 'r', 0, 'a', 1, 0, 'A: step 1 done'),
      // B took the lock after A was evicted: read to offset 2, claimed with what A had said.
      rec(2, 'r', 2, 'b', 0, undefined, 'A: step 1 done'),
      rec(3, 'r', 2, 'b', 1, 2, 'B: step 2 done'),
      // A's write, held up past its session timeout, lands now.
      rec(4, 'r', 0, 'a', 2, 0, 'A: step 2 done (stale)'),
    ];
    expect(resolve(log)).toEqual({ step: 'B: step 2 done', token: 2, fenced: [[4, 'written after a newer holder claimed the run']], superseded: [sessionKey('r', 0, 'a')] });
    // The late write changes nothing: the run reads as it did before it landed.
    expect(resolve(log.slice(0, 4))).toMatchObject({ step: 'B: step 2 done', fenced: [] });
    // The record that landed last is A's: a reader going by log position would have taken it.
    expect(log.at(-1)?.offset).toBe(4);
  });

  it('a write of the old holder between the new holder’s read and its claim is not inherited, and so is fenced', () => {
    const log = [rec(0, 'r', 0, 'a', 0, undefined, 'claim A'), rec(1, 'r', 0, 'a', 1, 0, 'A1'), rec(2, 'r', 0, 'a', 2, 0, 'A2 (late)'), rec(3, 'r', 2, 'b', 0, undefined, 'A1')];
    expect(resolve(log)).toMatchObject({ step: 'A1', token: 2, fenced: [[2, 'written after a newer holder claimed the run']] });
  });

  it('a claim held up until after another holder’s claim loses, whichever order the tokens come in', () => {
    // A and B both read to offset 5 (A's claim was held up before it was sent); B's claim landed first.
    const sameToken = [rec(4, 'r', 0, 'z', 1, 0, 'old'), rec(5, 'r', 5, 'b', 0, undefined, 'B claim'), rec(6, 'r', 5, 'a', 0, undefined, 'A claim (late)')];
    expect(resolve(sameToken)).toMatchObject({ step: 'B claim', token: 5, fenced: [[6, 'a claim that lost to another holder']] });
    // A read earlier (to 3), B later (to 5): A's claim, landing at 6, still lost (B's claim at 5 lies in [3, 6)).
    const olderToken = [rec(2, 'r', 0, 'z', 1, 0, 'old'), rec(5, 'r', 5, 'b', 0, undefined, 'B claim'), rec(6, 'r', 3, 'a', 0, undefined, 'A claim (late)')];
    expect(resolve(olderToken)).toMatchObject({ step: 'B claim', token: 5, fenced: [[6, 'a claim that lost to another holder']] });
    // And B's later writes win over it too, after compaction kept only B's last record.
    expect(resolve([...olderToken, rec(7, 'r', 5, 'b', 1, 5, 'B1')])).toMatchObject({ step: 'B1', token: 5 });
  });

  it('after the new holder tombstoned the old keys, a late write re-creating one is still fenced', () => {
    const log = [rec(2, 'r', 2, 'b', 1, 1, 'B1'), rec(9, 'r', 0, 'a', 7, 0, 'A7 (late)')];
    expect(resolve(log)).toMatchObject({ step: 'B1', token: 2, fenced: [[9, 'written after a newer holder claimed the run']] });
  });

  it('records written before fencing (keyed by the bare run name) are the state until a holder claims', () => {
    const legacy: FenceInput = { offset: 0, key: 'r', value: Buffer.from(JSON.stringify({ name: 'r', step: 'legacy' })) };
    expect(resolve([legacy])).toMatchObject({ step: 'legacy', token: -1, fenced: [] });
    expect(resolve([legacy, rec(1, 'r', 1, 'b', 0, undefined, 'legacy')])).toMatchObject({ step: 'legacy', token: 1, superseded: ['r'] });
  });

  it('a holder that claimed a run not yet saved: the run has no state', () => {
    const claim: FenceInput = { offset: 3, key: sessionKey('r', 3, 'c'), value: fencedValue(undefined, { token: 3, seq: 0 }) };
    expect(resolve([claim])).toMatchObject({ step: undefined, token: 3 });
  });

  it('runs are resolved apart, and a record whose key cannot be read is handed back', () => {
    const bad: FenceInput[] = [];
    const out = resolveRuns([rec(0, 'r', 0, 'a', 0, undefined, 'r0'), rec(1, 's', 1, 'b', 0, undefined, 's0'), { offset: 2, key: 'r@nope', value: Buffer.from('{}') }], (r) => bad.push(r));
    expect([...out.keys()].sort()).toEqual(['r', 's']);
    expect(bad.map((r) => r.offset)).toEqual([2]);
  });
});
