import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { bindPlaybook, parseParamArgs } from '../../src/playbook/bind.js';
import { parsePlaybook } from '../../src/playbook/load.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidInputError) return err.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`);
    throw err;
  }
  throw new Error('expected an InvalidInputError');
}

const good = `name: demo
params:
  topic: { required: true, description: topic name }
  kind: { enum: [form, func], default: func }
  flag: { default: "\${{ params.topic }}-async" }
steps:
  - id: create
    title: Create datarep.\${{ params.topic }}
    uses: kafka.topic
    with: { name: "datarep.\${{ params.topic }}", partitions: 3 }
  - id: gate
    uses: confirm
`;

describe('playbook loading', () => {
  it('loads a valid playbook and resolves params, defaults that refer to params, and titles', () => {
    const bound = bindPlaybook(parsePlaybook('pb.yaml', good), { topic: 'orders' }, {});
    expect(bound.params).toEqual({ topic: 'orders', kind: 'func', flag: 'orders-async' });
    expect(bound.steps[0]!.title).toBe('Create datarep.orders');
    expect(bound.steps[0]!.params).toEqual({ name: 'datarep.orders', partitions: 3, replicationFactor: 1, configs: {} });
  });

  it('reports malformed YAML with file:line:col', () => {
    expect(problems(() => parsePlaybook('pb.yaml', 'name: x\nsteps:\n  - id: a\n    uses: [\n'))[0]).toMatch(/^pb\.yaml:\d+:\d+: /);
  });

  it('reports every structural problem at once, each where it is', () => {
    const text = `name: demo
params:
  topic: { required: true }
steps:
  - id: a
    uses: kafka.topik
  - id: a
    uses: confirm
    colour: red
`;
    expect(problems(() => parsePlaybook('pb.yaml', text))).toEqual(['pb.yaml:9:5: steps[1]: unknown key "colour"']);
    const text2 = text.replace('    colour: red\n', '');
    expect(problems(() => parsePlaybook('pb.yaml', text2))).toEqual([
      expect.stringMatching(/^pb\.yaml:6:11: unknown step type "kafka\.topik"; known types: .*confirm, .*kafka\.topic, /),
      'pb.yaml:7:9: duplicate step id "a"',
    ]);
  });

  it('points a bad template at its own column', () => {
    const text = 'name: demo\nsteps:\n  - id: a\n    uses: confirm\n    with: { message: "go ${{ params.x + 1 }}" }\n';
    expect(problems(() => parsePlaybook('pb.yaml', text))).toEqual([
      'pb.yaml:5:26: bad template "${{ params.x + 1 }}": only a dotted lookup like params.topic is allowed',
    ]);
  });

  it('reports a missing required param at its declaration, and bad step params where they are', () => {
    expect(problems(() => bindPlaybook(parsePlaybook('pb.yaml', good), {}, {}))).toEqual([
      'pb.yaml:3:3: missing required param "topic" (topic name): pass --param topic=<value>',
    ]);
    const bad = good.replace('partitions: 3', 'partitions: many');
    expect(problems(() => bindPlaybook(parsePlaybook('pb.yaml', bad), { topic: 't' }, {}))[0]).toMatch(/^pb\.yaml:10:62: kafka\.topic: steps\[0\]\.with\.partitions: .*expected number/);
  });

  it('rejects an enum value outside the list and an undeclared param', () => {
    const msgs = problems(() => bindPlaybook(parsePlaybook('pb.yaml', good), { topic: 't', kind: 'other', zzz: '1' }, {}));
    expect(msgs.join('\n')).toMatch(/--param zzz: the playbook declares no such param/);
    expect(msgs.join('\n')).toMatch(/--param kind=other: must be one of form, func/);
  });

  it('parses --param key=value and keeps "=" inside values', () => {
    expect(parseParamArgs(['a=1', 'b=x=y', 'c='])).toEqual({ a: '1', b: 'x=y', c: '' });
    expect(() => parseParamArgs(['novalue'])).toThrow(/expected key=value/);
  });
});
