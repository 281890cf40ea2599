/** Text as editors and tools write it, and as messages say it. */

/**
 * `text` without its leading byte-order mark (U+FEFF), which Windows editors write. An editor
 * does not show it, so positions must not count it, and `yaml` misreads what follows it (a
 * block sequence at the top of the file becomes an error).
 */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** `a` or `an` before a kind as it is read aloud: an ALB, an S3, a MicroService, an EventBridge. */
export function article(kind: string): string {
  const acronym = /^[A-Z0-9]{2}/.test(kind);
  return (acronym ? /^[AEFHILMNORSX]/ : /^[AEIOU]/).test(kind) ? 'an' : 'a';
}
