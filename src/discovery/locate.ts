/**
 * Turning "document 2 of services/web/api.yaml, at /spec/port" into `file:line:col`. Files are
 * parsed again, with positions, only when one of their documents has a problem.
 */
import { readFileSync } from 'node:fs';
import type { SourceLocation, ValidationProblem } from '../errors.js';
import { locate, parseYamlFile, type ParsedDocument } from './parse.js';

/** A problem found in a document, before its position is known. */
export interface PendingProblem {
  /** Absolute path and shown path of the file, and the document's index in it. */
  file: string;
  display: string;
  docIndex: number;
  /** JSON pointer inside the document. */
  pointer: string;
  /** `Kind/name` */
  document?: string;
  /** The path reported to the user (defaults to `pointer`). */
  path?: string;
  message: string;
  rule: string;
}

export class Locator {
  private readonly files = new Map<string, ParsedDocument[]>();

  private documents(file: string, display: string): ParsedDocument[] {
    let docs = this.files.get(file);
    if (!docs) {
      try {
        // parseYamlFile drops a leading byte-order mark, so columns on line 1 are the editor's.
        docs = parseYamlFile(display, readFileSync(file, 'utf8')).documents;
      } catch {
        docs = [];
      }
      this.files.set(file, docs);
    }
    return docs;
  }

  /** Where `pointer` of document `docIndex` was written (its nearest written parent if absent). */
  where(file: string, display: string, docIndex: number, pointer: string): SourceLocation {
    const doc = this.documents(file, display).find((d) => d.docIndex === docIndex);
    const start: SourceLocation = { file: display, line: 1, col: 1 };
    return doc ? locate(doc.positions, pointer, doc.source) : start;
  }

  resolve(p: PendingProblem): ValidationProblem {
    return {
      location: this.where(p.file, p.display, p.docIndex, p.pointer),
      ...(p.document === undefined ? {} : { document: p.document }),
      path: p.path ?? p.pointer,
      message: p.message,
      rule: p.rule,
    };
  }
}
