// The lag poll's own request codecs (kafka-offset-requests.ts) on hand-written bytes; their
// round trip with a real broker is test/integration/kafka-offsets.test.ts.
import { describe, expect, it } from 'vitest';
import { decodeListOffsetsResponse, decodeOffsetFetchResponse, encodeListOffsetsRequest, encodeOffsetFetchRequest } from '../../src/adapters/kafka-offset-requests.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('ListOffsets v6-v9', () => {
  it('encodes one topic, each partition with leader epoch -1 and the timestamp', () => {
    expect(encodeListOffsetsRequest(1, 't', [0, 7], -2).toString('hex')).toBe(
      '00' + 'ffffffff' + '01' + '02' + '0274' + '03' + '00000000ffffffff' + 'fffffffffffffffe' + '00' + '00000007ffffffff' + 'fffffffffffffffe' + '00' + '00' + '00',
    );
  });

  it('decodes partitions with their error codes and offsets', () => {
    const payload = hex(`00 00000000 02 0274 03
      00000000 0000 ffffffffffffffff 000000000000002a 00000000 00
      00000001 0006 ffffffffffffffff ffffffffffffffff ffffffff 00
      00 00`);
    expect(decodeListOffsetsResponse(9, payload)).toEqual([
      { partition: 0, errorCode: 0, offset: 42 },
      { partition: 1, errorCode: 6, offset: -1 },
    ]);
  });

  it('refuses a truncated answer and a version it cannot read', () => {
    expect(() => decodeListOffsetsResponse(9, hex('00 00000000 02 0274 02 00000000'))).toThrow(/ListOffsets response: .* needs/);
    expect(() => decodeListOffsetsResponse(5, hex('00'))).toThrow('ListOffsets v5 is not one migrate can read');
  });
});

describe('OffsetFetch v8-v9', () => {
  it('encodes every group with the topic and its partitions; v9 adds a null member id and epoch -1 per group', () => {
    const v8 = encodeOffsetFetchRequest(8, ['a', 'b'], 't', [3]);
    expect(v8.toString('hex')).toBe('00' + '03' + ('0261' + '02' + '0274' + '02' + '00000003' + '00' + '00') + ('0262' + '02' + '0274' + '02' + '00000003' + '00' + '00') + '00' + '00');
    const v9 = encodeOffsetFetchRequest(9, ['a'], 't', [3]);
    expect(v9.toString('hex')).toBe('00' + '02' + '0261' + '00' + 'ffffffff' + '02' + '0274' + '02' + '00000003' + '00' + '00' + '00' + '00');
  });

  it('decodes each group: its error code, and per partition the committed offset (-1: none)', () => {
    const payload = hex(`00 00000000 03
      0261 02 0274 03
        00000000 0000000000000005 ffffffff 01 0000 00
        00000001 ffffffffffffffff ffffffff 00 0000 00
      00 0000 00
      0262 01 0010 00
      00`);
    expect(decodeOffsetFetchResponse(8, payload)).toEqual([
      { groupId: 'a', errorCode: 0, topics: [{ name: 't', partitions: [{ partition: 0, offset: 5, errorCode: 0 }, { partition: 1, offset: -1, errorCode: 0 }] }] },
      { groupId: 'b', errorCode: 16, topics: [] },
    ]);
  });

  it('refuses bytes left over', () => {
    expect(() => decodeOffsetFetchResponse(8, hex('00 00000000 01 00 ff'))).toThrow(/bytes left over/);
  });
});
