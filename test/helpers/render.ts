/**
 * The real tools that draw what `ledger visualize` writes: Mermaid's own parser and diagram
 * database (the mermaid package, in jsdom: it expects a browser's globals), and Graphviz `dot`
 * from Debian (installed by .ci/run), which renders dot to SVG or refuses it.
 */
import { execa } from 'execa';
import { JSDOM } from 'jsdom';

let mermaidModule: Promise<(typeof import('mermaid'))['default']> | undefined;

async function mermaid(): Promise<(typeof import('mermaid'))['default']> {
  mermaidModule ??= (async () => {
    const dom = new JSDOM('<!doctype html><html><body></body></html>');
    Object.assign(globalThis, { window: dom.window, document: dom.window.document });
    return (await import('mermaid')).default;
  })();
  return mermaidModule;
}

/** A gantt task as Mermaid reads it. */
export interface GanttTask {
  task: string;
  section: string;
  start: string;
  end: string;
  milestone: boolean;
  classes: string[];
}

/** The diagram type Mermaid's parser finds in `text`; rejects with its error when it cannot parse it. */
export async function mermaidDiagramType(text: string): Promise<string> {
  const m = await mermaid();
  const parsed = await m.parse(text);
  if (!parsed) throw new Error('mermaid could not parse the text');
  return parsed.diagramType;
}

/** The tasks of a gantt chart as Mermaid's gantt database holds them after parsing `text`. */
export async function ganttTasks(text: string): Promise<GanttTask[]> {
  const m = await mermaid();
  await m.parse(text);
  const diagram = await m.mermaidAPI.getDiagramFromText(text);
  const db = diagram.db as unknown as {
    getTasks(): Array<{ task: string; section: string; startTime: Date; endTime: Date; milestone?: boolean; classes: string[] }>;
  };
  return db.getTasks().map((t) => ({
    task: t.task,
    section: t.section,
    start: t.startTime.toISOString(),
    end: t.endTime.toISOString(),
    milestone: Boolean(t.milestone),
    classes: t.classes,
  }));
}

/** `text` rendered by Graphviz to SVG (rejects with dot's own error when it refuses the text). */
export async function renderDot(text: string): Promise<string> {
  const r = await execa('dot', ['-Tsvg'], { input: text, reject: false });
  if (r.failed && (r as { code?: string }).code === 'ENOENT')
    throw new Error("Graphviz's dot is not installed: apt-get install graphviz (.ci/run does)");
  if (r.exitCode !== 0) throw new Error(`dot refused the graph (exit ${r.exitCode}): ${r.stderr}`);
  return r.stdout;
}
