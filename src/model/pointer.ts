/** JSON pointers (RFC 6901), as error messages and plans name places inside a document. */
export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
