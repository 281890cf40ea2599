/**
 * The entry point Pulumi's dynamic-provider process loads (through DEPLOYER_LOCAL_RUNTIME)
 * for every `local` resource: it dispatches on the resource's `kind` input. Kept apart from
 * the serialized provider so that the checkpoint holds a few lines, not deployer's code.
 */
import * as bucket from './bucket.js';
import * as microservice from './microservice.js';

type Props = Record<string, unknown> & { kind: string };

interface Handler {
  create(inputs: never): Promise<{ id: string; outs: unknown }>;
  update(id: string, olds: never, news: never): Promise<{ outs: unknown }>;
  read(id: string, props: never): Promise<{ id?: string; props?: unknown }>;
  remove(id: string, props: never): Promise<void>;
  diff(olds: never, news: never): { changes: boolean; replaces: string[] } | Promise<{ changes: boolean; replaces: string[] }>;
}

// A Worker is supervised as a MicroService is, without a port or a proxy; a CronJob's supervisor runs it on its schedule.
const handlers: Record<string, Handler> = {
  MicroService: microservice,
  Worker: microservice,
  CronJob: microservice,
  S3: bucket,
} as unknown as Record<string, Handler>;

function handler(kind: string): Handler {
  const h = handlers[kind];
  if (!h) throw new Error(`the local target cannot deploy kind ${kind}`);
  return h;
}

/** Pulumi passes `__provider` along with the inputs; it is not ours to compare or store. */
function strip(props: Props): Props {
  const { __provider: _p, ...rest } = props;
  return rest as Props;
}

export async function create(inputs: Props) {
  return handler(inputs.kind).create(strip(inputs) as never);
}

export async function update(id: string, olds: Props, news: Props) {
  return handler(news.kind).update(id, strip(olds) as never, strip(news) as never);
}

export async function read(id: string, props: Props) {
  return handler(props.kind).read(id, strip(props) as never);
}

export async function remove(id: string, props: Props) {
  return handler(props.kind).remove(id, strip(props) as never);
}

export async function diff(_id: string, olds: Props, news: Props) {
  const d = await handler(news.kind).diff(strip(olds) as never, strip(news) as never);
  return { changes: d.changes, replaces: d.replaces, deleteBeforeReplace: true };
}
