import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { formatProblem, InvalidInputError, type InputProblem } from '../errors.js';
import { checkBackwardCompatible } from '../schema/compat.js';
import { compileEventSchema, lintSchema, type LintResult } from '../schema/lint.js';
import { JsonPositions, parseJson, type JsonSyntaxError } from '../util/json.js';
import type { CommonOptions, FlagsOf } from './options.js';

/** Options shared by the `migrate schema` commands. */
export interface SchemaCommandOptions extends CommonOptions, FlagsOf<'schema'> {}

/** One event that fails the schema, as `validate` reports it. */
export interface InvalidEvent {
  file: string;
  line: number;
  /** JSON Pointer into the event ("" for the event itself). */
  path: string;
  message: string;
}

/** `--json` keeps at most this many invalid events (the counts stay exact). */
const MAX_JSON_ERRORS = 1000;

/** `migrate schema lint FILE...`: 0 when every file is a valid event schema, 2 when any has a problem. */
export async function schemaLintCommand(files: string[], o: SchemaCommandOptions): Promise<number> {
  const results: (LintResult & { file: string })[] = [];
  for (const file of files) {
    let result: LintResult & { file: string };
    try {
      result = { file, ...(await lintSchema(file, await readInput(file, o.cwd))) };
    } catch (err) {
      if (!(err instanceof InvalidInputError)) throw err;
      result = { file, problems: err.problems };
    }
    results.push(result);
    if (o.json) continue;
    if (result.problems.length === 0) await write(o.out, `${file}: ok (${result.dialect})\n`);
    for (const p of result.problems) await write(o.out, formatProblem(p) + '\n');
  }
  const ok = results.every((r) => r.problems.length === 0);
  if (o.json) {
    const files = results.map((r) => ({ file: r.file, ok: r.problems.length === 0, ...(r.dialect ? { dialect: r.dialect } : {}), problems: r.problems }));
    await write(o.out, JSON.stringify({ ok, files }) + '\n');
  }
  return ok ? 0 : 2;
}

/**
 * `migrate schema validate SCHEMA EVENTS...`: each event file is one JSON document or NDJSON
 * (one event per line, read as a stream). 0 when every event is valid, 1 when any is not,
 * 2 when an event file is unreadable or has a line that is not JSON.
 */
export async function schemaValidateCommand(schemaFile: string, eventFiles: string[], o: SchemaCommandOptions): Promise<number> {
  const schema = await lintedSchema(schemaFile, o.cwd);
  const validate = await compileEventSchema(schema);
  for (const file of eventFiles) await assertReadable(file, o.cwd); // before any output

  const invalid: InvalidEvent[] = [];
  const problems: InputProblem[] = [];
  let events = 0;
  let invalidEvents = 0;
  const report = async (e: InvalidEvent) => {
    if (!o.json) await write(o.out, `${e.file}:${e.line}: ${e.path || '(root)'}: ${e.message}\n`);
    else if (invalid.length < MAX_JSON_ERRORS) invalid.push(e);
  };
  const problem = async (p: InputProblem) => {
    if (!o.json) await write(o.out, formatProblem(p) + '\n');
    problems.push(p);
  };
  for (const file of eventFiles) {
    for await (const event of readEvents(file, o.cwd)) {
      if ('problem' in event) {
        await problem(event.problem);
        continue;
      }
      events += 1;
      const issues = validate(event.value);
      if (issues.length === 0) continue;
      invalidEvents += 1;
      for (const issue of issues) await report({ file, line: event.line(issue.path), path: issue.path, message: issue.message });
    }
  }
  const code = problems.length ? 2 : invalidEvents ? 1 : 0;
  if (o.json) {
    await write(
      o.out,
      JSON.stringify({
        schema: schemaFile,
        ok: code === 0,
        events,
        valid: events - invalidEvents,
        invalid: invalidEvents,
        errors: invalid,
        ...(invalid.length >= MAX_JSON_ERRORS ? { errorsTruncated: true } : {}),
        problems,
      }) + '\n',
    );
  } else {
    const malformed = problems.length ? `, ${problems.length} malformed ${problems.length === 1 ? 'line' : 'lines'}` : '';
    await write(o.out, `${events} ${events === 1 ? 'event' : 'events'}: ${events - invalidEvents} valid, ${invalidEvents} invalid${malformed}\n`);
  }
  return code;
}

/** `migrate schema compat OLD NEW`: 0 when NEW can read every event valid under OLD, 1 when not. */
export async function schemaCompatCommand(oldFile: string, newFile: string, o: SchemaCommandOptions): Promise<number> {
  const [oldSchema, newSchema] = await Promise.all([lintedSchema(oldFile, o.cwd), lintedSchema(newFile, o.cwd)]);
  const reasons = checkBackwardCompatible(oldSchema, newSchema);
  if (o.json) {
    await write(o.out, JSON.stringify({ old: oldFile, new: newFile, compatibility: 'BACKWARD', compatible: reasons.length === 0, reasons }) + '\n');
  } else if (reasons.length === 0) {
    await write(o.out, `${newFile} is backward compatible with ${oldFile}\n`);
  } else {
    await write(o.out, `${newFile} is not backward compatible with ${oldFile}:\n${reasons.map((r) => `  ${r}\n`).join('')}`);
  }
  return reasons.length ? 1 : 0;
}

/** A schema file that lints clean, or bad input (exit 2) listing every problem. */
async function lintedSchema(file: string, cwd: string): Promise<Record<string, unknown>> {
  const { schema, problems } = await lintSchema(file, await readInput(file, cwd));
  if (problems.length || !schema) throw new InvalidInputError(problems, `see every problem with: migrate schema lint ${file}`);
  return schema;
}

/** A file's text; an unreadable file is bad input. */
async function readInput(file: string, cwd: string): Promise<string> {
  try {
    return await readFile(path.resolve(cwd, file), 'utf8');
  } catch (err) {
    throw unreadable(file, err);
  }
}

/** Fails as bad input unless the file can be opened and read (it is not read here). */
async function assertReadable(file: string, cwd: string): Promise<void> {
  try {
    const fh = await open(path.resolve(cwd, file), 'r');
    try {
      if ((await fh.stat()).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw unreadable(file, err);
  }
}

function unreadable(file: string, err: unknown): InvalidInputError {
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
  return new InvalidInputError([{ file, message: `cannot read: ${why}` }]);
}

/** An event and where it is, or a line that is not JSON. */
type EventOrProblem = { value: unknown; line: (instancePath: string) => number } | { problem: InputProblem };

/**
 * The events of one file. NDJSON when the name ends in .ndjson or .jsonl, or when the first
 * non-blank line is a JSON value by itself; otherwise the whole file is one JSON document
 * (pretty-printed, say), whose errors are located by the line of the offending value.
 */
async function* readEvents(file: string, cwd: string): AsyncGenerator<EventOrProblem> {
  const full = path.resolve(cwd, file);
  const ndjsonByName = /\.(ndjson|jsonl)$/i.test(file);
  const stream = createReadStream(full, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNo = 0;
  let decided = ndjsonByName;
  try {
    for await (const raw of lines) {
      lineNo += 1;
      const line = lineNo === 1 && raw.startsWith('\uFEFF') ? ' ' + raw.slice(1) : raw;
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = parseJson(line);
      } catch (err) {
        if (!decided) break; // not a JSON value by itself: the file is one document
        const e = err as JsonSyntaxError;
        yield { problem: { file, line: lineNo, col: e.col, message: `not valid JSON: ${e.message}` } };
        continue;
      }
      decided = true;
      const at = lineNo;
      yield { value, line: () => at };
    }
  } finally {
    lines.close();
    stream.destroy();
  }
  if (decided) return;

  const text = (await readFile(full, 'utf8')).replace(/^\uFEFF/, ' ');
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (err) {
    const e = err as JsonSyntaxError;
    yield { problem: { file, line: e.line, col: e.col, message: `not valid JSON: ${e.message}` } };
    return;
  }
  let positions: JsonPositions | undefined;
  yield { value, line: (instancePath) => (positions ??= JsonPositions.of(text)).value(instancePath).line };
}

/** Writes and waits when the stream asks to, so a long report keeps memory bounded. */
async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}
