import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_ENGINES, supportedNode } from '../../bin/supported-node.mjs';

const engines = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }).engines.node;

type Version = [number, number, number];
const parse = (v: string): Version => v.split('.').map(Number) as Version;
const compare = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** npm's meaning of the two comparator forms engines uses here: `^a.b.c` (a > 0) and `>=a.b.c`. */
function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  return range.split('||').some((part) => {
    const m = /^\s*(\^|>=)(\d+\.\d+\.\d+)\s*$/.exec(part);
    if (!m) throw new Error(`engines comparator ${JSON.stringify(part)} is not ^x.y.z or >=x.y.z: extend this test`);
    const floor = parse(m[2]!);
    return compare(v, floor) >= 0 && (m[1] === '>=' || v[0] === floor[0]);
  });
}

describe('the Node.js versions bin/migrate accepts', () => {
  it('are the ones package.json engines names', () => {
    expect(NODE_ENGINES).toBe(engines);
    // Every line's first and last patch of interest, and the edges of each comparator.
    const versions = ['14.21.3', '16.20.2', '18.20.8', '19.9.0', '20.0.0', '20.18.1', '20.18.3', '20.19.0', '20.20.2', '21.7.3', '22.0.0', '22.12.0', '22.13.0', '22.23.5', '23.4.0', '23.5.0', '23.11.1', '24.0.0', '24.22.3', '25.2.1', '26.0.0'];
    const disagree = versions.filter((v) => supportedNode(v) !== satisfies(v, engines));
    expect(disagree).toEqual([]);
    expect(versions.filter((v) => supportedNode(v))).toContain('24.22.3');
  });
  it('include the Node this test runs on', () => {
    expect(supportedNode(process.versions.node)).toBe(true);
  });
});
