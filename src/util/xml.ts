/**
 * Text for the XML migrate writes (JUnit reports, SVG charts, the HTML report): escaped, and
 * stripped of the characters XML 1.0 cannot carry at all, so an error message with a stray
 * control byte still gives a file every parser reads.
 */

// Tab, LF and CR are the only C0 controls XML 1.0 allows; lone surrogates and U+FFFE/U+FFFF never are.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text safe as XML character data or inside a double-quoted attribute. */
export function xmlText(text: string): string {
  return text
    .replace(NOT_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** An attribute value: also line breaks and tabs as character references, which attribute normalisation would otherwise turn into spaces. */
export function xmlAttr(text: string): string {
  return xmlText(text).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}
