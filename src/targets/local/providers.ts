/**
 * The dynamic provider of every `local` resource. Pulumi serializes these methods into the
 * checkpoint and runs them in its provider process, so they use nothing but globals and load
 * deployer's runtime from the file the engine names in DEPLOYER_LOCAL_RUNTIME; capturing a
 * module here would put it, or a stale path to it, into the checkpoint.
 */
import * as pulumi from '@pulumi/pulumi';
import { scopedName } from '../../util/resource-scope.js';

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    const rt = await import(process.env['DEPLOYER_LOCAL_RUNTIME'] as string);
    return rt.create(inputs);
  },
  async read(id, props) {
    const rt = await import(process.env['DEPLOYER_LOCAL_RUNTIME'] as string);
    return rt.read(id, props);
  },
  async update(id, olds, news) {
    const rt = await import(process.env['DEPLOYER_LOCAL_RUNTIME'] as string);
    return rt.update(id, olds, news);
  },
  async delete(id, props) {
    const rt = await import(process.env['DEPLOYER_LOCAL_RUNTIME'] as string);
    return rt.remove(id, props);
  },
  async diff(id, olds, news) {
    const rt = await import(process.env['DEPLOYER_LOCAL_RUNTIME'] as string);
    return rt.diff(id, olds, news);
  },
};

/** A `local` resource of the given kind; its type shows as `pulumi-nodejs:dynamic/local:<Kind>`. */
export class LocalResource extends pulumi.dynamic.Resource {
  constructor(kind: string, name: string, props: Record<string, unknown>, outputNames: string[], opts?: pulumi.CustomResourceOptions) {
    const declared = Object.fromEntries(outputNames.filter((o) => !(o in props)).map((o) => [o, undefined]));
    // Scoped: several components' programs may share one Pulumi operation (util/resource-scope.ts).
    super(provider, scopedName(name), { ...props, ...declared, kind }, opts, 'local', kind);
  }

  /** An output property by name. */
  output(name: string): pulumi.Output<unknown> {
    return (this as unknown as Record<string, pulumi.Output<unknown>>)[name]!;
  }
}

/** A value Pulumi must keep encrypted in its checkpoint. */
export function secret(value: string): pulumi.Output<string> {
  return pulumi.secret(value);
}
