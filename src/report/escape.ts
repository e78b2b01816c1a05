/**
 * Escaping for the report. Every string that comes from a manifest, a telemetry file or the
 * engine's words about them (names, labels, reasons, fixes) goes through one of these before it
 * reaches the page: they are treated as hostile.
 */

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text for an HTML element's content or a quoted attribute value. */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON to embed in `<script type="application/json">`: `<`, `>` and `&` become `\u003c`-style escapes,
 * so no string can close the script element or open a comment, and U+2028/U+2029 are escaped too.
 * `JSON.parse` of the element's text gives the value back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
