// The bad input corpus: malformed playbooks, config files, --param values, schemas, state files
// and flag files, each given to the built CLI. For every case: exit 2, no stack trace, the
// message names file:line:col where the input has a position, and no file outside the state
// directory changes (nor a file outside the working directory). The exact one-line message for
// the common mistakes is pinned in test/e2e/error-messages.test.ts.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { report } from './figures.js';
import { changedFiles, snapshotFiles, STACK_TRACE } from './support.js';

interface Case {
  /** The files of the working directory, text or bytes. */
  files?: Record<string, string | Uint8Array>;
  args: string[];
  env?: Record<string, string | undefined>;
  /**
   * What the message says: with `file:line:col` when the input has a position (a playbook, a
   * file), else naming what is wrong (an argument, an environment variable).
   */
  says: RegExp;
  /** The input has a position, so the message must name file:line:col. */
  positioned?: boolean;
  /**
   * Where the message is: stderr by default; stdout for `schema lint` (its findings are its
   * output) and for bad input met inside a step (the step's failure, as the run renders it).
   */
  on?: 'stdout';
}

const okPlaybook = 'name: x\nsteps:\n  - id: a\n    uses: confirm\n';
const flagCheckPlaybook = 'name: f\nsteps:\n  - id: producer-flag\n    uses: flag.check\n    with: { key: orders-producer, expect: exists }\n';
const goodFlags = JSON.stringify({ flags: { 'orders-producer': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' } } }, null, 2);
const POS = /[\w.\-/]+:\d+:\d+: /;

/** `line:col` (1-based) of the first `needle` in `text`, or of its end when `needle` is undefined. */
function posOf(text: string, needle?: string): string {
  const offset = needle === undefined ? text.length : text.indexOf(needle);
  if (offset < 0) throw new Error(`${needle} is not in the text`);
  const before = text.slice(0, offset);
  return `${before.split('\n').length}:${offset - before.lastIndexOf('\n')}`;
}

/** A playbook whose last line holds the problem, after `size` bytes of a valid description. */
function hugePlaybook(size: number): string {
  const lines = Math.floor(size / 100);
  const description = Array.from({ length: lines }, (_, i) => `  line ${i} ${'x'.repeat(90)}`).join('\n');
  return `name: x\ndescription: |\n${description}\nsteps:\n  - id: a\n    uses: kafka.topik\n`;
}
const HUGE_LINES = Math.floor(10_000_000 / 100);

/** A billion laughs: each level aliases the one before nine times. */
const aliasBomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
  .concat('bcdefghi'.split('').map((l, i) => `${l}: &${l} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`))
  .join('\n');

const state = (over: Record<string, unknown> = {}) =>
  JSON.stringify(
    {
      version: 1,
      name: 'x',
      playbook: { name: 'x', ref: 'pb.yaml', file: 'pb.yaml', checksum: 'c' },
      params: {},
      paramsChecksum: 'p',
      status: 'running',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      steps: [{ id: 'a', uses: 'confirm', status: 'pending', attempts: 0 }],
      history: [],
      ...over,
    },
    null,
    2,
  );

const truncatedState = state().slice(0, 200);
const bogusStatus = state({ steps: [{ id: 'a', uses: 'confirm', status: 'bogus', attempts: 0 }] });
const textAttempts = state({ steps: [{ id: 'a', uses: 'confirm', status: 'pending', attempts: 'two' }] });
const hugeState = `{"version": 1, "junk": "${'j'.repeat(20_000_000)}`;
const numberFlag = '{\n  "flags": {\n    "orders-producer": 5\n  }\n}';
const listVariants = '{"flags": {"orders-producer": {"state": "ENABLED", "variants": [true], "defaultVariant": "on"}}}';
const booleanState = '{"flags": {"orders-producer": {"state": true}}}';

/** A working directory whose config loads the plugins/ folder; pluginStep is a valid plugin to break. */
const withPlugin = { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'plugins:\n  - plugins\n' };
const pluginStep = "export default { type: 'acme.ok', params: { safeParse: (v) => ({ success: true, data: v }) }, describe: () => 'ok', check: async () => ({ done: true }), timeoutMs: 1000, intervalMs: 100 };\n";

const cafeNfc = 'caf\u00e9';
const cafeNfd = 'cafe\u0301';

const cases: Record<string, Case> = {
  // -- playbooks --
  'playbook: truncated in the middle of a key': { files: { 'pb.yaml': 'name: x\nsteps:\n  - id: a\n    us' }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:4:5: Implicit map keys need to be followed by map values/m, positioned: true },
  'playbook: truncated inside a quoted string': { files: { 'pb.yaml': 'name: x\nsteps:\n  - id: a\n    uses: confirm\n    with: { message: "unclosed' }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:31: Missing closing "quote/m, positioned: true },
  'playbook: truncated inside a flow map': { files: { 'pb.yaml': 'name: x\nsteps:\n  - id: a\n    uses: confirm\n    with: { message: hi' }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:24: Flow map .* must .* end with a }/m, positioned: true },
  'playbook: empty file': { files: { 'pb.yaml': '' }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:1:1: .*expected object/m, positioned: true },
  'playbook: steps is a number': { files: { 'pb.yaml': 'name: x\nsteps: 5\n' }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:2:8: steps: .*expected array/m, positioned: true },
  'playbook: name is a list': { files: { 'pb.yaml': `name: [a, b]\nsteps:\n  - id: a\n    uses: confirm\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:1:7: name: .*expected string/m, positioned: true },
  'playbook: retries is text': { files: { 'pb.yaml': `${okPlaybook}    retries: many\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:14: steps\[0\]\.retries: .*expected number/m, positioned: true },
  'playbook: timeout is a boolean': { files: { 'pb.yaml': `${okPlaybook}    timeout: yes\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:14: steps\[0\]\.timeout: /m, positioned: true },
  'playbook: timeout is not a duration': { files: { 'pb.yaml': `${okPlaybook}    timeout: 10 parsecs\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:14: steps\[0\]\.timeout: "10 parsecs" is not a duration/m, positioned: true },
  'playbook: a param flag of the wrong type': { files: { 'pb.yaml': `name: x\nparams:\n  topic: { required: "yes" }\nsteps:\n  - id: a\n    uses: confirm\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:3:22: params\.topic\.required: .*expected boolean/m, positioned: true },
  'playbook: an unknown top-level key': { files: { 'pb.yaml': `nmae: x\n${okPlaybook.slice(8)}` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:1:1: unknown key "nmae"/m, positioned: true },
  'playbook: an unknown step key': { files: { 'pb.yaml': 'name: x\nsteps:\n  - id: a\n    uses: confirm\n    usse: confirm\n' }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:5: steps\[0\]: unknown key "usse"/m, positioned: true },
  'playbook: an unknown param key': { files: { 'pb.yaml': `name: x\nparams:\n  topic: { requird: true }\n${okPlaybook.slice(8)}` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:3:12: params\.topic: unknown key "requird"/m, positioned: true },
  'playbook: an unknown step type': { files: { 'pb.yaml': 'name: x\nsteps:\n  - id: a\n    uses: kafka.topik\n' }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:4:11: unknown step type "kafka\.topik"/m, positioned: true },
  'playbook: an unknown key in with:': { files: { 'pb.yaml': `${okPlaybook}    with: { mesage: hi }\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:13: confirm: steps\[0\]\.with: unknown key "mesage"/m, positioned: true },
  'playbook: huge (10 MB), the problem on its last line': { files: { 'pb.yaml': hugePlaybook(10_000_000) }, args: ['run', 'pb.yaml'], says: new RegExp(`^error: pb\\.yaml:${HUGE_LINES + 5}:11: unknown step type`, 'm'), positioned: true },
  'playbook: huge (10 MB) on one line, unterminated': { files: { 'pb.yaml': `name: x\ndescription: "${'y'.repeat(10_000_000)}\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:3:1: Missing closing "quote/m, positioned: true },
  'playbook: NUL bytes': { files: { 'pb.yaml': 'name: x\nsteps:\n  - id: a\u0000\n    uses: confirm\n' }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:3:10: not a text file/m, positioned: true },
  'playbook: binary bytes': { files: { 'pb.yaml': Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256) }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:1:1: not a text file/m, positioned: true },
  'playbook: invalid UTF-8 without NUL bytes': { files: { 'pb.yaml': Uint8Array.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xff, 0xfe, 0xc3, 0x28, 0x0a]) }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:1:7: name: playbook names use/m, positioned: true },
  'playbook: a byte-order mark does not shift positions': { files: { 'pb.yaml': '\ufeffname: x\nsteps:\n  - id: a\n    uses: nope\n' }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:4:11: unknown step type "nope"/m, positioned: true },
  'playbook: a right-to-left override in the name': { files: { 'pb.yaml': `name: x\u202egnp.exe\n${okPlaybook.slice(8)}` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:1:7: name: playbook names use/m, positioned: true },
  'playbook: a right-to-left mark in a step id': { files: { 'pb.yaml': 'name: x\nsteps:\n  - id: a\u200fb\n    uses: confirm\n' }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:3:9: steps\[0\]\.id: step ids use/m, positioned: true },
  'playbook: a zero-width space in a step type': { files: { 'pb.yaml': 'name: x\nsteps:\n  - id: a\n    uses: confirm\u200b\n' }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:4:11: unknown step type/m, positioned: true },
  'playbook: an emoji step id': { files: { 'pb.yaml': 'name: x\nsteps:\n  - id: \u{1F680}\n    uses: confirm\n' }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:3:9: steps\[0\]\.id: step ids use/m, positioned: true },
  'playbook: an accented (NFC) param name': { files: { 'pb.yaml': `name: x\nparams:\n  ${cafeNfc}: {}\n${okPlaybook.slice(8)}` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:3:3: params\.café: param names are plain identifiers/m, positioned: true },
  'playbook: its file named in NFC, asked for in NFD': { files: { [`${cafeNfc}.yaml`]: okPlaybook }, args: ['run', `${cafeNfd}.yaml`], says: new RegExp(`^error: playbook file ${cafeNfd}\\.yaml does not exist`, 'm') },
  'playbook: an emoji as the playbook name': { args: ['run', '\u{1F680}'], says: /^error: ".*" is not a playbook name or path/m },
  'playbook: deep flow nesting (5000 levels)': { files: { 'pb.yaml': `${okPlaybook}    with: { message: ${'['.repeat(5000)}${']'.repeat(5000)} }\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:\d+: /m, positioned: true },
  'playbook: deep block nesting (1000 levels)': { files: { 'pb.yaml': `${okPlaybook}    with:\n${Array.from({ length: 1000 }, (_, i) => `${'  '.repeat(i + 3)}k${i}:`).join('\n')}\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:\d+:\d+: /m, positioned: true },
  'playbook: a billion laughs (alias bomb)': { files: { 'pb.yaml': `${aliasBomb}\n${okPlaybook}` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:2:8: aliases expand to too much data/m, positioned: true },
  'playbook: an alias inside the value it names (a cycle)': { files: { 'pb.yaml': `${okPlaybook}    with: &w { message: hi, again: *w }\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:36: alias \*w is inside the value it refers to/m, positioned: true },
  'playbook: an alias with no anchor': { files: { 'pb.yaml': `${okPlaybook}    with: { message: *nowhere }\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:22: alias \*nowhere refers to no anchor/m, positioned: true },
  'playbook: a duplicate top-level key': { files: { 'pb.yaml': `name: x\nname: y\n${okPlaybook.slice(8)}` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:2:1: Map keys must be unique/m, positioned: true },
  'playbook: a duplicate key in with:': { files: { 'pb.yaml': `${okPlaybook}    with:\n      message: a\n      message: b\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:7:7: Map keys must be unique/m, positioned: true },
  'playbook: a duplicate step id': { files: { 'pb.yaml': `${okPlaybook}  - id: a\n    uses: confirm\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:9: duplicate step id "a"/m, positioned: true },
  'playbook: a bad template': { files: { 'pb.yaml': `${okPlaybook}    with: { message: "\${{ params.topic | upper }}" }\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:23: bad template/m, positioned: true },
  'playbook: an unterminated template': { files: { 'pb.yaml': `${okPlaybook}    with: { message: "go \${{ params.topic" }\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:26: unterminated template/m, positioned: true },
  'playbook: an undeclared env template': { files: { 'pb.yaml': `${okPlaybook}    with: { message: "home \${{ env.HOME }}" }\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:28: env\.HOME is not declared/m, positioned: true },
  'playbook: a template reading a later step': { files: { 'pb.yaml': `${okPlaybook}    with: { message: "\${{ steps.b.outputs.x }}" }\n  - id: b\n    uses: confirm\n` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:5:23: .*refers to step "b", which does not come before/m, positioned: true },
  'playbook: path traversal to /etc/passwd': { args: ['run', '../../../../../../../../etc/passwd'], says: /^error: \/etc\/passwd:1:1: .*expected object/m, positioned: true },
  'playbook: an encoded path traversal (..%2f)': { args: ['run', '..%2f..%2fetc%2fpasswd'], says: /^error: "\.\.%2f\.\.%2fetc%2fpasswd" is not a playbook name or path/m },
  'playbook: a name with dots (..)': { args: ['run', '..passwd'], says: /^error: "\.\.passwd" is not a playbook name or path/m },
  'playbook: a directory': { files: { 'pbdir/.keep': '' }, args: ['run', 'pbdir/'], says: /^error: cannot read playbook pbdir\/: EISDIR/m },

  // -- --param and other arguments --
  '--param without "="': { files: { 'pb.yaml': okPlaybook }, args: ['run', 'pb.yaml', '-p', 'topic'], says: /^error: --param topic: expected key=value/m },
  '--param with an empty key': { files: { 'pb.yaml': okPlaybook }, args: ['run', 'pb.yaml', '-p', '=orders'], says: /^error: --param =orders: expected key=value/m },
  '--param with a space in the key': { files: { 'pb.yaml': okPlaybook }, args: ['run', 'pb.yaml', '-p', 'to pic=x'], says: /^error: --param to pic=x: "to pic" is not a param name/m },
  '--param __proto__=x': { files: { 'pb.yaml': okPlaybook }, args: ['run', 'pb.yaml', '-p', '__proto__=x'], says: /--param __proto__: the playbook declares no such param/m },
  '--param the playbook does not declare': { files: { 'pb.yaml': okPlaybook }, args: ['run', 'pb.yaml', '-p', 'nope=1'], says: /--param nope: the playbook declares no such param/m },
  '--param outside its enum': { files: { 'pb.yaml': `name: x\nparams:\n  kind: { enum: [form, func] }\n${okPlaybook.slice(8)}` }, args: ['run', 'pb.yaml', '-p', 'kind=both'], says: /--param kind=both: must be one of form, func/m },
  'a missing required param': { files: { 'pb.yaml': `name: x\nparams:\n  topic: { required: true }\n${okPlaybook.slice(8)}` }, args: ['run', 'pb.yaml'], says: /^(error: )?pb\.yaml:3:3: missing required param "topic"/m, positioned: true },
  '--param making a run name with a path in it': { files: { 'pb.yaml': `name: x\nparams:\n  topic: {}\n${okPlaybook.slice(8)}` }, args: ['run', 'pb.yaml', '-p', 'topic=../../../tmp/evil'], says: /^error: "x-\.\.\/\.\.\/\.\.\/tmp\/evil" is not a valid run name/m },
  '--name with a path traversal': { files: { 'pb.yaml': okPlaybook }, args: ['run', 'pb.yaml', '--name', '../outside/evil'], says: /^error: "\.\.\/outside\/evil" is not a valid run name/m },
  '--name encoded (%2e%2e%2f)': { files: { 'pb.yaml': okPlaybook }, args: ['run', 'pb.yaml', '--name', '%2e%2e%2fevil'], says: /^error: "%2e%2e%2fevil" is not a valid run name/m },
  '--approve a step that does not exist': { files: { 'pb.yaml': okPlaybook }, args: ['run', 'pb.yaml', '--approve', 'nope'], says: /^error: --approve nope: the playbook has no step "nope"/m },

  // -- migrate.config.yaml and the environment --
  'config: brokers is a number': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'kafka:\n  brokers: 5\n' }, env: { KAFKA_BROKERS: undefined }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:2:12: kafka\.brokers: /m, positioned: true },
  'config: an unknown key': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'kafka:\n  brokerz: [a:1]\n' }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:2:3: kafka: unknown key "brokerz"/m, positioned: true },
  'config: a broker without a port': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'kafka:\n  brokers: [localhost]\n' }, env: { KAFKA_BROKERS: undefined }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:2:13: kafka\.brokers\[0\]: expected host:port/m, positioned: true },
  'config: a broker port out of range': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'kafka:\n  brokers: "a:9092,b:70000"\n' }, env: { KAFKA_BROKERS: undefined }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:2:12: kafka\.brokers: expected host:port/m, positioned: true },
  'config: a broker URL instead of host:port': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'kafka:\n  brokers: ["kafka://a:9092"]\n' }, env: { KAFKA_BROKERS: undefined }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:2:13: kafka\.brokers\[0\]: /m, positioned: true },
  'config: ssl is text': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'kafka:\n  ssl: "yes"\n' }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:2:8: kafka\.ssl: expected true, false or \{ ca: <PEM file of the CA> \}/m, positioned: true },
  'config: an unknown flag provider': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'flags:\n  provider: launchdarkly\n' }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:2:13: flags\.provider: /m, positioned: true },
  'config: an Unleash URL that is not http(s)': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'flags:\n  provider: unleash\n  unleash:\n    url: "ftp://flags"\n' }, env: { UNLEASH_URL: undefined }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:4:10: flags\.unleash\.url: expected an http/m, positioned: true },
  'config: a token written into the config file': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'flags:\n  unleash:\n    token: "*:*.abc"\n' }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:3:5: flags\.unleash: unknown key "token"/m, positioned: true },
  'config: a registry password written into the config file': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'schemas:\n  registry:\n    password: hunter2\n' }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:3:5: schemas\.registry: unknown key "password"/m, positioned: true },
  'config: an unknown schema source': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'schemas:\n  source: glue\n' }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:2:11: schemas\.source: /m, positioned: true },
  'config: an OFREP URL that is a path': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'flags:\n  propagation:\n    ofrep: /var/run/flagd\n' }, env: { MIGRATE_FLAGS_OFREP_URL: undefined }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:3:12: flags\.propagation\.ofrep: expected an http/m, positioned: true },
  'env: UNLEASH_URL that is not a URL': { files: { 'pb.yaml': okPlaybook }, env: { UNLEASH_URL: 'unleash:4242', MIGRATE_FLAGS_PROVIDER: 'unleash' }, args: ['run', 'pb.yaml'], says: /^error: UNLEASH_URL: not an http:\/\/ or https:\/\/ URL/m },
  'env: an unknown MIGRATE_SCHEMAS_SOURCE': { files: { 'pb.yaml': okPlaybook }, env: { MIGRATE_SCHEMAS_SOURCE: 'consul' }, args: ['status'], says: /^error: MIGRATE_SCHEMAS_SOURCE: "consul" is not a known schema source \(known: dir, registry\)/m },
  'env: KAFKA_SSL_CA naming no file': { files: { 'pb.yaml': okPlaybook }, env: { KAFKA_SSL_CA: 'nowhere/ca.pem' }, args: ['run', 'pb.yaml'], says: /^error: KAFKA_SSL_CA/m },
  'config: a webhook that is not http(s)': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'notify:\n  webhook: "file:///etc/passwd"\n' }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:2:12: notify\.webhook: expected an http/m, positioned: true },
  'config: a YAML syntax error': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'kafka: [1,2\n' }, args: ['status'], says: /^error: migrate\.config\.yaml:2:1: /m, positioned: true },
  'config: a list, not a map': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': '- kafka\n- state\n' }, args: ['status'], says: /^error: migrate\.config\.yaml:1:1: .*expected object/m, positioned: true },
  'config: a billion laughs': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': aliasBomb + '\n' }, args: ['status'], says: /^error: migrate\.config\.yaml:2:8: aliases expand to too much data/m, positioned: true },
  'config: a state session timeout under 1s': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'state:\n  sessionTimeout: 1ms\n' }, args: ['status'], says: /^error: state\.sessionTimeout: "1ms" is not a duration of 1s or more/m },
  '--config naming a directory': { files: { 'pb.yaml': okPlaybook, 'conf/.keep': '' }, args: ['--config', 'conf', 'status'], says: /^error: cannot read config file conf: EISDIR/m },
  '--config naming nothing': { files: { 'pb.yaml': okPlaybook }, args: ['--config', 'nope.yaml', 'status'], says: /^error: config file nope\.yaml does not exist/m },
  'env: KAFKA_BROKERS with a space': { files: { 'pb.yaml': okPlaybook }, env: { KAFKA_BROKERS: 'a b:9092' }, args: ['run', 'pb.yaml'], says: /^error: KAFKA_BROKERS: "a b:9092" is not host:port/m },
  'env: KAFKA_SSL=maybe': { files: { 'pb.yaml': okPlaybook }, env: { KAFKA_SSL: 'maybe' }, args: ['run', 'pb.yaml'], says: /^error: KAFKA_SSL: "maybe" is not true or false/m },
  'env: an unknown KAFKA_SASL_MECHANISM': { files: { 'pb.yaml': okPlaybook }, env: { KAFKA_SASL_MECHANISM: 'gssapi' }, args: ['run', 'pb.yaml'], says: /^error: KAFKA_SASL_MECHANISM: "gssapi" is not one of/m },

  // -- local step plugins (plugins: in migrate.config.yaml) --
  'plugin: a syntax error': { files: { ...withPlugin, 'plugins/p.mjs': "export default {\n  type: 'acme.x',,\n};\n" }, args: ['run', 'pb.yaml'], says: /^error: plugins\/p\.mjs:2:18: SyntaxError: Unexpected token ','/m, positioned: true },
  'plugin: throws while it is imported': { files: { ...withPlugin, 'plugins/p.mjs': 'const a = 1;\nthrow new TypeError("boom");\n' }, args: ['run', 'pb.yaml'], says: /^error: plugins\/p\.mjs:2:7: cannot load the plugin: boom/m, positioned: true },
  'plugin: imports a package that is not installed': { files: { ...withPlugin, 'plugins/p.mjs': 'import pad from "left-pad";\nexport default pad;\n' }, args: ['validate', 'pb.yaml'], says: /^plugins\/p\.mjs: cannot load the plugin: Cannot find package 'left-pad'/m, on: 'stdout' },
  'plugin: no default export': { files: { ...withPlugin, 'plugins/p.mjs': 'export const step = {};\n' }, args: ['run', 'pb.yaml'], says: /^error: plugins\/p\.mjs: no default export/m },
  'plugin: the default export is a function': { files: { ...withPlugin, 'plugins/p.mjs': 'export default function step() {}\n' }, args: ['steps'], says: /^error: plugins\/p\.mjs: the default export is function, not a step type object/m },
  'plugin: params that are not a zod schema': { files: { ...withPlugin, 'plugins/p.mjs': pluginStep.replace(/params: \{.*?\}\) \},/, "params: 'string'," ) }, args: ['run', 'pb.yaml'], says: /^error: plugins\/p\.mjs: "params" is not a zod schema/m },
  'plugin: a type that shadows a built-in': { files: { ...withPlugin, 'plugins/p.mjs': pluginStep.replace('acme.ok', 'confirm') }, args: ['run', 'pb.yaml'], says: /^error: plugins\/p\.mjs: step type "confirm" is built in/m },
  'plugin: a type name with a space': { files: { ...withPlugin, 'plugins/p.mjs': pluginStep.replace('acme.ok', 'acme ok') }, args: ['steps'], says: /^error: plugins\/p\.mjs: "type" "acme ok" is not a step type name/m },
  'plugin: an interval of 0': { files: { ...withPlugin, 'plugins/p.mjs': pluginStep.replace('intervalMs: 100', 'intervalMs: 0') }, args: ['run', 'pb.yaml'], says: /^error: plugins\/p\.mjs: "intervalMs" must be a number of milliseconds above 0, not 0/m },
  'plugin: a plugins: entry that names nothing': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'plugins:\n  - ../elsewhere/steps\n' }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:2:5: plugins\[0\]: \.\.\/elsewhere\/steps does not exist/m, positioned: true },
  'plugin: plugins: is not a list': { files: { 'pb.yaml': okPlaybook, 'migrate.config.yaml': 'plugins: steps\n' }, args: ['run', 'pb.yaml'], says: /^error: migrate\.config\.yaml:1:10: plugins: .*expected array/m, positioned: true },

  // -- event schemas, through migrate schema lint --
  'schema: truncated': { files: { 's.json': '{"type": "object",' }, args: ['schema', 'lint', 's.json'], says: /^s\.json:1:19: not valid JSON/m, positioned: true, on: 'stdout' },
  'schema: an array': { files: { 's.json': '[]' }, args: ['schema', 'lint', 's.json'], says: /^s\.json:1:1: an event schema must be a JSON object/m, positioned: true, on: 'stdout' },
  'schema: a keyword of the wrong type': { files: { 's.json': '{\n  "type": 5\n}' }, args: ['schema', 'lint', 's.json'], says: /^s\.json:2:11: invalid draft-07 schema/m, positioned: true, on: 'stdout' },
  'schema: nested 50000 levels deep': { files: { 's.json': '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000) }, args: ['schema', 'lint', 's.json'], says: /^s\.json:1:2561: not valid JSON: nesting too deep/m, positioned: true, on: 'stdout' },
  'schema: a BOM and a trailing comma': { files: { 's.json': '\ufeff{\n  "type": "object",\n}' }, args: ['schema', 'lint', 's.json'], says: /^s\.json:2:19: not valid JSON: trailing comma/m, positioned: true, on: 'stdout' },
  'schema: an unknown $schema': { files: { 's.json': '{"$schema": "http://evil.example/schema"}' }, args: ['schema', 'lint', 's.json'], says: /^s\.json:1:13: unknown \$schema/m, positioned: true, on: 'stdout' },
  'schema: empty file': { files: { 's.json': '' }, args: ['schema', 'lint', 's.json'], says: /^s\.json:1:1: not valid JSON/m, positioned: true, on: 'stdout' },
  'schema: NUL bytes': { files: { 's.json': '{"type":\u0000"object"}' }, args: ['schema', 'lint', 's.json'], says: /^s\.json:1:9: not valid JSON/m, positioned: true, on: 'stdout' },
  'schema: huge (10 MB), broken at the end': { files: { 's.json': `{"description": "${'d'.repeat(10_000_000)}", "type": }` }, args: ['schema', 'lint', 's.json'], says: /^s\.json:1:10000029: not valid JSON/m, positioned: true, on: 'stdout' },

  // -- run state files --
  'state: truncated JSON': { files: { 'pb.yaml': okPlaybook, '.migrate/x.json': truncatedState }, args: ['run', 'pb.yaml'], says: new RegExp(`\\.migrate/x\\.json:${posOf(truncatedState)}: state file is not valid JSON`, 'm'), positioned: true },
  'state: empty': { files: { 'pb.yaml': okPlaybook, '.migrate/x.json': '' }, args: ['status', 'x'], says: /\.migrate\/x\.json:1:1: state file is not valid JSON/m, positioned: true },
  'state: a step status it does not know': { files: { 'pb.yaml': okPlaybook, '.migrate/x.json': bogusStatus }, args: ['status'], says: new RegExp(`\\.migrate/x\\.json:${posOf(bogusStatus, '"bogus"')}: state file has a bad value at steps\\.0\\.status`, 'm'), positioned: true },
  'state: an array, not an object': { files: { 'pb.yaml': okPlaybook, '.migrate/x.json': '[]' }, args: ['run', 'pb.yaml'], says: /\.migrate\/x\.json:1:1: state file has a bad value at \(top level\)/m, positioned: true },
  'state: attempts is text': { files: { 'pb.yaml': okPlaybook, '.migrate/x.json': textAttempts }, args: ['report', 'x'], says: new RegExp(`\\.migrate/x\\.json:${posOf(textAttempts, '"two"')}: state file has a bad value at steps\\.0\\.attempts`, 'm'), positioned: true },
  'state: huge (20 MB), an unterminated string': { files: { 'pb.yaml': okPlaybook, '.migrate/x.json': hugeState }, args: ['run', 'pb.yaml'], says: new RegExp(`\\.migrate/x\\.json:${posOf(hugeState, '"jjj')}: state file is not valid JSON: unterminated string`, 'm'), positioned: true },
  'state: huge (20 MB), cut off after a value': { files: { 'pb.yaml': okPlaybook, '.migrate/x.json': hugeState + '"' }, args: ['run', 'pb.yaml'], says: new RegExp(`\\.migrate/x\\.json:${posOf(hugeState + '"')}: state file is not valid JSON`, 'm'), positioned: true },
  'state: nested 100000 levels deep': { files: { 'pb.yaml': okPlaybook, '.migrate/x.json': '['.repeat(100_000) + ']'.repeat(100_000) }, args: ['status'], says: /\.migrate\/x\.json:1:513: state file is not valid JSON: nesting too deep/m, positioned: true },
  'state: binary bytes': { files: { 'pb.yaml': okPlaybook, '.migrate/x.json': Uint8Array.from([0xff, 0xfe, 0x00, 0x7b]) }, args: ['status'], says: /\.migrate\/x\.json:1:1: state file is not valid JSON/m, positioned: true },

  // -- flag files, met by a flag.check step inside a run --
  'flags: truncated': { files: { 'f.yaml': flagCheckPlaybook, 'flags.json': goodFlags.slice(0, 40) }, args: ['run', 'f.yaml'], says: new RegExp(`flags\\.json:${posOf(goodFlags.slice(0, 40))}: flag file is not valid JSON`, 'm'), positioned: true, on: 'stdout' },
  'flags: empty': { files: { 'f.yaml': flagCheckPlaybook, 'flags.json': '' }, args: ['run', 'f.yaml'], says: /flags\.json:1:1: flag file is not valid JSON/m, positioned: true, on: 'stdout' },
  'flags: "flags" is an array': { files: { 'f.yaml': flagCheckPlaybook, 'flags.json': '{\n  "flags": []\n}' }, args: ['run', 'f.yaml'], says: /flags\.json:2:12: "flags" must be an object/m, positioned: true, on: 'stdout' },
  'flags: the file is an array': { files: { 'f.yaml': flagCheckPlaybook, 'flags.json': '[1, 2]' }, args: ['run', 'f.yaml'], says: /flags\.json:1:1: flag file must be a JSON object/m, positioned: true, on: 'stdout' },
  'flags: a flag that is a number': { files: { 'f.yaml': flagCheckPlaybook, 'flags.json': numberFlag }, args: ['run', 'f.yaml'], says: new RegExp(`flags\\.json:${posOf(numberFlag, '5')}: flag "orders-producer" must be an object`, 'm'), positioned: true, on: 'stdout' },
  'flags: variants that are not an object': { files: { 'f.yaml': flagCheckPlaybook, 'flags.json': listVariants }, args: ['run', 'f.yaml'], says: new RegExp(`flags\\.json:${posOf(listVariants, '[true]')}: flag "orders-producer": "variants" must be an object`, 'm'), positioned: true, on: 'stdout' },
  'flags: a state that is not text': { files: { 'f.yaml': flagCheckPlaybook, 'flags.json': booleanState }, args: ['run', 'f.yaml'], says: new RegExp(`flags\\.json:${posOf(booleanState, 'true')}: flag "orders-producer": "state" must be a string`, 'm'), positioned: true, on: 'stdout' },
  'flags: nested 100000 levels deep': { files: { 'f.yaml': flagCheckPlaybook, 'flags.json': '{"flags": ' + '['.repeat(100_000) + ']'.repeat(100_000) + '}' }, args: ['run', 'f.yaml'], says: /flags\.json:1:522: flag file is not valid JSON: nesting too deep/m, positioned: true, on: 'stdout' },
};

interface Outcome {
  exit2: boolean;
  stackTrace: boolean;
  positioned: boolean;
  filesChanged: number;
}

/**
 * The working directory sits beside another directory in a fresh root, so a write that escapes
 * the working directory (../) is caught as well as one beside the playbook.
 */
async function runCase(c: Case): Promise<{ outcome: Outcome; stdout: string; stderr: string; changed: string[]; stateFileKept: boolean }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'migrate-bad-input-'));
  const cwd = path.join(root, 'work');
  await mkdir(path.join(root, 'outside'), { recursive: true });
  await writeFile(path.join(root, 'outside', 'keep.txt'), 'not to be touched\n');
  for (const [name, content] of Object.entries(c.files ?? {})) {
    await mkdir(path.dirname(path.join(cwd, name)), { recursive: true });
    await writeFile(path.join(cwd, name), content);
  }
  await mkdir(cwd, { recursive: true });
  const inStateDir = (rel: string) => rel === path.join('work', '.migrate') || rel.startsWith(path.join('work', '.migrate') + path.sep);
  try {
    return await runIn(root, cwd, c, inStateDir);
  } finally {
    await rm(root, { recursive: true, force: true }); // some inputs are 10-20 MB
  }
}

async function runIn(root: string, cwd: string, c: Case, inStateDir: (rel: string) => boolean) {
  const before = await snapshotFiles(root, inStateDir);
  // A bad state file is evidence: it is reported, never rewritten.
  const stateFile = () => readFile(path.join(cwd, '.migrate', 'x.json')).then((b) => b.toString('base64'), () => undefined);
  const stateBefore = await stateFile();
  const res = await runCli(c.args, { cwd, ...(c.env ? { env: c.env } : {}) });
  const changed = changedFiles(before, await snapshotFiles(root, inStateDir));
  const stateFileKept = (await stateFile()) === stateBefore;
  const where = c.on === 'stdout' ? res.stdout : res.stderr;
  return {
    outcome: {
      exit2: res.code === 2,
      stackTrace: STACK_TRACE.test(res.stderr) || STACK_TRACE.test(res.stdout) || /this is a bug/.test(res.stderr),
      positioned: c.says.test(where) && (!c.positioned || POS.test(where)),
      filesChanged: changed.length,
    },
    stdout: res.stdout,
    stderr: res.stderr,
    changed,
    stateFileKept: stateBefore === undefined || stateFileKept,
  };
}

describe('bad input corpus: exit 2, one clear message, nothing changed', () => {
  it('has at least 50 cases', () => {
    expect(Object.keys(cases).length).toBeGreaterThanOrEqual(50);
  });

  for (const [name, c] of Object.entries(cases)) {
    it(name, async (ctx) => {
      const { outcome, stdout, stderr, changed, stateFileKept } = await runCase(c);
      report(ctx, 'bad input corpus', {
        cases: 1,
        'exit 2': outcome.exit2 ? 1 : 0,
        'stack traces': outcome.stackTrace ? 1 : 0,
        'with file:line:col': c.positioned && outcome.positioned ? 1 : 0,
        'message as expected': outcome.positioned ? 1 : 0,
        'files changed': outcome.filesChanged,
      });
      const shown = `stdout:\n${stdout.slice(0, 2000)}\nstderr:\n${stderr.slice(0, 2000)}`;
      expect(outcome.exit2, shown).toBe(true);
      expect(outcome.stackTrace, shown).toBe(false);
      expect(c.on === 'stdout' ? stdout : stderr, shown).toMatch(c.says);
      if (c.positioned) expect(c.on === 'stdout' ? stdout : stderr).toMatch(POS);
      expect(changed).toEqual([]);
      expect(stateFileKept, 'the bad state file was rewritten').toBe(true);
      // A message is one line, or one line and a hint, plus usage help for commander's own errors.
      if (c.on !== 'stdout') expect(stderr.trimEnd().split('\n').length, stderr).toBeLessThanOrEqual(3);
    });
  }

  it('an in-run flag file problem is in the --json step.failed event too, with its position', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'migrate-bad-input-'));
    await writeFile(path.join(root, 'f.yaml'), flagCheckPlaybook);
    await writeFile(path.join(root, 'flags.json'), '{\n  "flags": []\n}');
    const res = await runCli(['run', 'f.yaml', '--json'], { cwd: root });
    expect(res.code).toBe(2);
    const failed = res.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; error?: string }).find((e) => e.type === 'step.failed');
    expect(failed?.error).toMatch(/flags\.json:2:12: "flags" must be an object/);
    expect(await readFile(path.join(root, 'flags.json'), 'utf8')).toBe('{\n  "flags": []\n}');
    await rm(root, { recursive: true, force: true });
  });
});
