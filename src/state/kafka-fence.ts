/**
 * Fencing for the Kafka run store: which records of the state topic a reader believes, when a
 * holder that lost its lock may still land a write after the next holder took over (Kafka has no
 * compare-and-set on a key). Pure: it sees the records as the store's view keeps them (the last
 * per key, as compaction keeps them) and never talks to Kafka. See docs/state.md, "Fencing".
 *
 * Each time a process takes a run's lock it opens a **session**: it reads the topic to its end,
 * at offset L, and appends a **claim** keyed `<run>@<L>.<nonce>` carrying the state it inherits
 * (the run's state as of L). Every later write of the session goes under the same key, with
 * `fence: {token: L, seq, claim}` in the value, `claim` being the offset of the claim record.
 * L is the session's **fencing token**.
 *
 * - A claim is valid when no valid claim lies in [L, its own offset): nobody claimed the run
 *   between the claimant's read and its claim. Taken in log order, valid claims' tokens only grow
 *   (a valid claim at o2 with token L2 has every earlier valid claim below L2, and that claim's own
 *   token below its offset), so the token orders holders whatever the records' log order.
 * - A session inherits exactly the records below its token. A record of an older session at or
 *   beyond the next valid session's token was written after that session read the run: it is a
 *   **fenced write**, ignored by every reader. So are the records of a session whose claim is invalid.
 * - A run's state is the latest record (highest token, then sequence) of its current session:
 *   the session of the last valid claim.
 *
 * Records keyed by the bare run name (written before fencing) form a session with token -1.
 */

/** One record of the state topic as the view keeps it: the last one under its key. */
export interface FenceInput {
  offset: number;
  key: string;
  value: Buffer;
}

/** The fence a record carries: its session's token, its sequence in the session, and the session's claim offset. */
export interface Fence {
  token: number;
  seq: number;
  /** Offset of the session's claim record; absent in the claim itself (it is its own offset). */
  claim?: number;
}

/** A session's key parts: the run, the token, the nonce that tells two claims of one token apart. */
export interface SessionKey {
  run: string;
  token: number;
  nonce: string;
}

/** A record nobody believes: written by a holder after the run was claimed by another. */
export interface FencedWrite {
  run: string;
  offset: number;
  /** The token of the session that wrote it. */
  token: number;
  seq: number;
  /** The token of the session that holds the run now. */
  fencedBy: number;
  why: 'written after a newer holder claimed the run' | 'a claim that lost to another holder';
}

/** One run as a reader resolves it. */
export interface ResolvedRun {
  run: string;
  /** The record holding the run's state; undefined while the current session has claimed a run with no state yet. */
  state: FenceInput | undefined;
  /** The current session's key and token. */
  session: { key: string; token: number };
  fenced: FencedWrite[];
  /** Keys of this run's older sessions, which the current one has inherited from (a new holder tombstones them). */
  superseded: string[];
}

/** The key of a session's records. Run names never contain "@" (run-name.ts). */
export function sessionKey(run: string, token: number, nonce: string): string {
  return `${run}@${token}.${nonce}`;
}

/** The parts of a state-topic key; a bare run name is the unfenced session of token -1. */
export function parseSessionKey(key: string): SessionKey | undefined {
  const at = key.indexOf('@');
  if (at < 0) return { run: key, token: -1, nonce: '' };
  const m = /^(\d+)\.([0-9a-z]+)$/.exec(key.slice(at + 1));
  if (!m) return undefined;
  return { run: key.slice(0, at), token: Number(m[1]), nonce: m[2] as string };
}

/** The value a session writes: the state document (or nothing, for a claim of a run not yet saved) with its fence. */
export function fencedValue(state: Record<string, unknown> | undefined, fence: Fence): Buffer {
  return Buffer.from(JSON.stringify({ ...(state ?? {}), fence }));
}

/** What a record's value says of itself: its fence, and whether it holds a state at all. */
export function readFence(r: FenceInput, key: SessionKey): { fence: Fence; hasState: boolean } {
  if (key.token < 0) return { fence: { token: -1, seq: r.offset, claim: -1 }, hasState: true };
  const doc = JSON.parse(r.value.toString('utf8')) as { fence?: Partial<Fence>; name?: unknown };
  const f = doc.fence;
  const seq = typeof f?.seq === 'number' ? f.seq : 0;
  return {
    fence: { token: key.token, seq, ...(typeof f?.claim === 'number' ? { claim: f.claim } : {}) },
    hasState: doc.name !== undefined,
  };
}

interface Session {
  key: string;
  token: number;
  claim: number;
  record: FenceInput;
  seq: number;
  hasState: boolean;
}

/**
 * Resolves every run in `records` (the last record per key, tombstoned keys absent). Records whose
 * key or fence cannot be read are left to the caller: `unreadable` gets them.
 */
export function resolveRuns(records: Iterable<FenceInput>, unreadable: (r: FenceInput, why: string) => void = () => undefined): Map<string, ResolvedRun> {
  const byRun = new Map<string, Session[]>();
  for (const r of records) {
    const key = parseSessionKey(r.key);
    if (!key) {
      unreadable(r, 'its key is neither a run name nor <run>@<token>.<nonce>');
      continue;
    }
    let fence;
    try {
      fence = readFence(r, key);
    } catch (err) {
      unreadable(r, err instanceof Error ? err.message : String(err));
      continue;
    }
    // A session's claim offset: the claim record's own, or what its later records say it was.
    const claim = fence.fence.claim ?? (fence.fence.seq === 0 ? r.offset : undefined);
    if (claim === undefined) {
      unreadable(r, 'its fence names no claim');
      continue;
    }
    const list = byRun.get(key.run) ?? [];
    list.push({ key: r.key, token: key.token, claim, record: r, seq: fence.fence.seq, hasState: fence.hasState });
    byRun.set(key.run, list);
  }
  const out = new Map<string, ResolvedRun>();
  for (const [run, sessions] of byRun) {
    sessions.sort((a, b) => a.claim - b.claim || a.key.localeCompare(b.key));
    const valid: Session[] = [];
    const lost: Session[] = [];
    for (const s of sessions) {
      const last = valid[valid.length - 1];
      // Valid when no valid claim lies in [token, claim): the claimant read everything claimed before it.
      if (!last || last.claim < s.token) valid.push(s);
      else lost.push(s);
    }
    const current = valid[valid.length - 1] as Session;
    const fenced: FencedWrite[] = [];
    valid.forEach((s, i) => {
      const next = valid[i + 1];
      // The next session inherited the records below its token: anything of ours from there on came too late.
      if (next && s.record.offset >= next.token) {
        fenced.push({ run, offset: s.record.offset, token: s.token, seq: s.seq, fencedBy: current.token, why: 'written after a newer holder claimed the run' });
      }
    });
    for (const s of lost) fenced.push({ run, offset: s.record.offset, token: s.token, seq: s.seq, fencedBy: current.token, why: 'a claim that lost to another holder' });
    fenced.sort((a, b) => a.offset - b.offset);
    out.set(run, {
      run,
      state: current.hasState ? current.record : undefined,
      session: { key: current.key, token: current.token },
      fenced,
      superseded: sessions.filter((s) => s !== current).map((s) => s.key),
    });
  }
  return out;
}
