// Admission (k8s apiserver/pkg/admission): mutating plugins run before validation, validating plugins after,
// both before anything is stored. Plugins are ordered in one list (admission/index.ts).
import type { KubeObject, ResourceDef } from '../../api/resource.js';
import type { UserInfo } from '../authz/interface.js';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  operation: AdmissionOperation;
  def: ResourceDef;
  subresource: string;
  namespace: string;
  name: string;
  /** The object being written (mutable in `admit`). Absent for DELETE. */
  object?: KubeObject;
  /** The stored object, for UPDATE and DELETE. */
  oldObject?: KubeObject;
  user?: UserInfo;
  dryRun: boolean;
}

export interface AdmissionPlugin {
  readonly name: string;
  handles(op: AdmissionOperation): boolean;
  /** May change `a.object`. Throws a StatusError to refuse. */
  admit?(a: AdmissionAttributes): Promise<void>;
  /** Must not change anything. Throws a StatusError to refuse. */
  validate?(a: AdmissionAttributes): Promise<void>;
}

/** Runs plugins in order: every `admit`, or every `validate`. */
export class AdmissionChain {
  constructor(private readonly plugins: readonly AdmissionPlugin[]) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.admit && p.handles(a.operation)) await p.admit(a);
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.validate && p.handles(a.operation)) await p.validate(a);
  }
}
