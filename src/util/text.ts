/** Text as editors and tools write it. */

/**
 * `text` without its leading byte-order mark (U+FEFF), which Windows editors write. An editor
 * does not show it, so positions must not count it, and `yaml` misreads what follows it (a
 * block sequence at the top of the file becomes an error).
 */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
