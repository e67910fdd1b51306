import { isAlias, isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { InvalidInputError, type InputProblem } from '../errors.js';

/** A parsed YAML file that can say where any value came from. */
export class YamlSource {
  readonly file: string;
  readonly text: string;
  readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true, merge: false });
  }

  /** The first YAML syntax error, with its position (later ones are usually its echoes). */
  syntaxProblems(): InputProblem[] {
    return this.doc.errors.slice(0, 1).map((e) => ({ ...this.posOfOffset(e.pos[0]), message: firstLine(e.message) }));
  }

  /**
   * The document as plain data. An alias with no anchor before it, an alias inside the value it
   * names (a cycle), or too many aliases (a "billion laughs") is a located problem, not a crash.
   */
  toJS(maxAliasCount = 100): unknown {
    const problems: InputProblem[] = [];
    const anchors = new Map<string, Node>();
    let firstAlias: Node | undefined;
    visit(this.doc, {
      Node: (_key, node, path) => {
        if (!isAlias(node)) {
          if (node.anchor) anchors.set(node.anchor, node);
          return;
        }
        firstAlias ??= node;
        const target = anchors.get(node.source);
        if (!target) problems.push(this.problemAt([], `alias *${node.source} refers to no anchor before it`, node));
        else if (path.includes(target)) problems.push(this.problemAt([], `alias *${node.source} is inside the value it refers to (a cycle)`, node));
      },
    });
    if (problems.length) throw new InvalidInputError(problems);
    try {
      return this.doc.toJS({ maxAliasCount });
    } catch (err) {
      if (!(err instanceof ReferenceError)) throw err;
      throw new InvalidInputError([this.problemAt([], `aliases expand to too much data (more than ${maxAliasCount} times): ${err.message}`, firstAlias)]);
    }
  }

  posOfOffset(offset: number): InputProblem & { message: '' } {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col, message: '' };
  }

  /** The node at `path`, or its nearest existing ancestor. */
  nodeAt(path: readonly PropertyKey[]): Node | undefined {
    let cur: unknown = this.doc.contents;
    let last: Node | undefined = isNode(cur) ? cur : undefined;
    for (const key of path) {
      if (isMap(cur)) {
        const pair = cur.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
        if (!pair) return last;
        cur = pair.value ?? pair.key;
      } else if (isSeq(cur) && typeof key === 'number') {
        cur = cur.items[key];
      } else {
        return last;
      }
      if (isNode(cur)) last = cur;
      else return last;
    }
    return last;
  }

  /** The key node of `key` inside the map at `path` (for "unknown key" messages). */
  keyNodeAt(path: readonly PropertyKey[], key: string): Node | undefined {
    const map = this.nodeAt(path);
    if (!isMap(map)) return map;
    const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    return pair && isNode(pair.key) ? pair.key : map;
  }

  /** A problem located at the node for `path`. */
  problemAt(path: readonly PropertyKey[], message: string, node?: Node): InputProblem {
    const n = node ?? this.nodeAt(path);
    const offset = n?.range?.[0] ?? 0;
    return { ...this.posOfOffset(offset), message };
  }

  /** A problem at the position of `needle` inside the scalar at `path` (e.g. one template). */
  problemInScalar(path: readonly PropertyKey[], needle: string, message: string): InputProblem {
    const n = this.nodeAt(path);
    const range = n?.range;
    if (range) {
      const at = this.text.slice(range[0], range[1]).indexOf(needle);
      if (at >= 0) return { ...this.posOfOffset(range[0] + at), message };
    }
    return this.problemAt(path, message, n);
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]?.trim() ?? s;
}

/** Turns zod issues into located problems; `base` is where the validated value sits in the file. */
export function zodProblems(source: YamlSource, error: z.ZodError, base: PropertyKey[]): InputProblem[] {
  const out: InputProblem[] = [];
  for (const issue of error.issues) {
    const at = [...base, ...issue.path];
    const where = at.length ? `${formatPath(at)}: ` : '';
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push(source.problemAt(at, `${where}unknown key "${key}"`, source.keyNodeAt(at, key)));
      }
    } else if (issue.code === 'invalid_key') {
      // A bad name in a record (a param name): point at the name, and say what a name must be.
      const key = String(at.at(-1));
      out.push(source.problemAt(at, `${where}${issue.issues[0]?.message ?? issue.message}`, source.keyNodeAt(at.slice(0, -1), key)));
    } else {
      out.push(source.problemAt(at, `${where}${issue.message}`));
    }
  }
  return out;
}

/** steps[1].with.partitions */
export function formatPath(at: readonly PropertyKey[]): string {
  return at.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('');
}
