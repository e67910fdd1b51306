// A small XML well-formedness check for what migrate writes (SVG charts, JUnit files): tags nest
// and close, attributes are quoted and unique, entity references are the predefined ones or
// character references, and no raw "<" or "&" hides in text. No DOM: it reads the text as an XML
// parser's tokenizer would and throws, naming the offset, at the first thing that is not XML.

const NAME = '[A-Za-z_:][-A-Za-z0-9_.:]*';
const TAG = new RegExp(`^<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*)\\s*(/?)>`);
const ATTR = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"<]*)"|'([^'<]*)')`, 'g');
const ENTITY = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);/y;

/** The names of the elements, in document order; throws unless `xml` is well-formed. */
export function assertWellFormedXml(xml: string): string[] {
  const stack: string[] = [];
  const elements: string[] = [];
  let i = 0;
  let roots = 0;
  const fail = (why: string): never => {
    throw new Error(`not well-formed XML at offset ${i}: ${why}: ${JSON.stringify(xml.slice(i, i + 40))}`);
  };
  const text = (end: number) => {
    for (let j = i; j < end; j++) {
      if (xml[j] === '&') {
        ENTITY.lastIndex = j;
        if (!ENTITY.test(xml)) {
          i = j;
          fail('a bare & or an unknown entity');
        }
      }
    }
  };
  const checkAttrs = (attrs: string) => {
    const seen = new Set<string>();
    for (const m of attrs.matchAll(ATTR)) {
      if (seen.has(m[1] as string)) fail(`attribute ${m[1]} twice`);
      seen.add(m[1] as string);
      const value = m[2] ?? m[3] ?? '';
      if (/&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)/.test(value)) fail(`a bare & in attribute ${m[1]}`);
    }
  };
  if (xml.startsWith('<?xml')) i = xml.indexOf('?>') + 2;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const end = lt < 0 ? xml.length : lt;
    if (!stack.length && xml.slice(i, end).trim()) fail('text outside the root element');
    text(end);
    i = end;
    if (lt < 0) break;
    if (xml.startsWith('<!--', i)) {
      const close = xml.indexOf('-->', i);
      if (close < 0) fail('an unclosed comment');
      i = close + 3;
      continue;
    }
    const m = TAG.exec(xml.slice(i));
    if (!m) fail('a malformed tag');
    const [whole, closing, name, attrs, selfClosing] = m as unknown as [string, string, string, string, string];
    if (closing) {
      if (stack.pop() !== name) fail(`</${name}> closes nothing open`);
    } else {
      checkAttrs(attrs);
      elements.push(name);
      if (!stack.length) roots++;
      if (roots > 1) fail('a second root element');
      if (!selfClosing) stack.push(name);
    }
    i += whole.length;
  }
  if (stack.length) fail(`<${stack.at(-1)}> is never closed`);
  if (!roots) fail('no root element');
  return elements;
}
