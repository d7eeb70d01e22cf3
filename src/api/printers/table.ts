// Builds the meta.k8s.io Table a client gets for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`
// (k8s.io/apiserver pkg/endpoints/handlers/response.go asTable). Printers always produce every column, as upstream's
// server-side TableConvertor prints wide; kubectl hides priority > 0 columns unless asked for `-o wide`.
import type { ListMeta } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../resource.js';
import type { Printer } from './columns.js';
import type { Table, TableGroupVersion, TableRow } from './types.js';

/** What each row carries besides its cells: kubectl needs at least the metadata to watch and sort. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface ToTableOptions {
  /** The instant ages are measured from. */
  now: Date;
  /** @default 'Metadata' (upstream's default for an empty `includeObject`) */
  includeObject?: IncludeObject;
  /** The list's resourceVersion, continue and remainingItemCount; for a single object, its resourceVersion. */
  listMeta?: ListMeta | Record<string, unknown>;
  /** TableOptions `noHeaders`: leave the column definitions out. */
  noHeaders?: boolean;
  /** The Table's own group version, as negotiated from the Accept header. @default 'meta.k8s.io/v1' */
  groupVersion?: TableGroupVersion;
}

function rowObject(obj: KubeObject, includeObject: IncludeObject, groupVersion: TableGroupVersion): unknown {
  switch (includeObject) {
    case 'Object':
      return obj;
    case 'Metadata':
      return { kind: 'PartialObjectMetadata', apiVersion: groupVersion, metadata: obj.metadata ?? {} };
    case 'None':
      return undefined;
  }
}

export function toTable(printer: Printer, objects: readonly KubeObject[], opts: ToTableOptions): Table {
  const includeObject = opts.includeObject ?? 'Metadata';
  const groupVersion = opts.groupVersion ?? 'meta.k8s.io/v1';
  const rows = objects.map((obj): TableRow => {
    const row: TableRow = { cells: printer.cells(obj, opts.now) };
    const conditions = printer.conditions?.(obj);
    if (conditions) row.conditions = conditions;
    const object = rowObject(obj, includeObject, groupVersion);
    if (object !== undefined) row.object = object;
    return row;
  });
  const table: Table = {
    kind: 'Table',
    apiVersion: groupVersion,
    metadata: { ...opts.listMeta },
    rows,
  };
  if (!opts.noHeaders) table.columnDefinitions = printer.columns;
  return table;
}
