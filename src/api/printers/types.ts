// meta.k8s.io/v1 Table wire types. kubernetes-types has no Table, so they are declared here
// (k8s.io/apimachinery/pkg/apis/meta/v1 types.go: Table, TableColumnDefinition, TableRow, PartialObjectMetadata).
import type { ListMeta, ObjectMeta } from 'kubernetes-types/meta/v1.js';

/** One column. Upstream serialises every field (no omitempty): `format` is `""` and `priority` `0` when unset. */
export interface TableColumnDefinition {
  name: string;
  /** OpenAPI type: `string`, `integer`, `number`, `boolean`, `date`. */
  type: string;
  /** OpenAPI format; `name` marks the column holding the object's name. */
  format: string;
  description: string;
  /** 0 is always shown; kubectl shows higher priorities only with `-o wide`. */
  priority: number;
}

export interface TableRowCondition {
  type: 'Completed';
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: TableGroupVersion;
  metadata: ObjectMeta;
}

export interface TableRow {
  cells: unknown[];
  conditions?: TableRowCondition[];
  /** Absent for `includeObject=None`. */
  object?: unknown;
}

export type TableGroupVersion = 'meta.k8s.io/v1' | 'meta.k8s.io/v1beta1';

export interface Table {
  kind: 'Table';
  apiVersion: TableGroupVersion;
  metadata: ListMeta;
  /** Omitted when the client asked for `noHeaders` (e.g. the events after the first of a watch). */
  columnDefinitions?: TableColumnDefinition[];
  rows: TableRow[];
}
