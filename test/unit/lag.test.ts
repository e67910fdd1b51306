import { describe, expect, it } from 'vitest';
import { consumerLag, openTransactions } from '../../src/adapters/kafka.js';
import { describeLagging, describeOpenTransactions } from '../../src/steps/kafka-drain.js';

describe('consumer lag', () => {
  it('is log end minus committed, never below zero, and counts all retained records when nothing was committed', () => {
    const lags = consumerLag([
      { partition: 2, logStart: 0, logEnd: 10, committed: 4 },
      { partition: 0, logStart: 5, logEnd: 9, committed: null },
      { partition: 1, logStart: 0, logEnd: 3, committed: 7 },
      { partition: 3, logStart: 8, logEnd: 12, committed: 2 },
    ]);
    expect(lags.map((l) => [l.partition, l.lag])).toEqual([
      [0, 4],
      [1, 0],
      [2, 6],
      [3, 4],
    ]);
    expect(describeLagging(lags)).toBe('partition 2 lag 6, partition 0 lag 4 (nothing committed), partition 3 lag 4');
  });
});

describe('open transactions', () => {
  it('are the partitions whose last stable offset is behind the high watermark; unknown counts as none', () => {
    const offsets = [
      { partition: 2, logStart: 0, logEnd: 10, lastStable: 4, committed: 4 },
      { partition: 0, logStart: 0, logEnd: 9, lastStable: 9, committed: 9 },
      { partition: 1, logStart: 0, logEnd: 7, committed: 7 },
      { partition: 3, logStart: 0, logEnd: 5, lastStable: 4, committed: null },
    ];
    const open = openTransactions(offsets);
    expect(open.map((o) => o.partition)).toEqual([2, 3]);
    expect(describeOpenTransactions(open)).toBe(
      'a transaction is open on partitions 2, 3 (7 records past the last stable offset, which read_committed consumers cannot read yet)',
    );
  });
});
