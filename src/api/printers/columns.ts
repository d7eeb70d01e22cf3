// Building blocks shared by the printers: column definitions in upstream's shape and the cells every type has.
import type { KubeObject, TablePrinter } from '../resource.js';
import { docs } from './descriptions.js';
import { translateTimestampSince } from './duration.js';
import type { TableColumnDefinition, TableRowCondition } from './types.js';

/** A TablePrinter whose rows may also carry conditions (upstream marks finished pods `Completed`). */
export interface Printer extends TablePrinter {
  columns: TableColumnDefinition[];
  conditions?(obj: KubeObject): TableRowCondition[] | undefined;
}

/** Priority of the columns kubectl shows only with `-o wide`. */
export const wide = 1;

export function column(
  name: string,
  type: string,
  description: string,
  opts: { priority?: number; format?: string } = {}
): TableColumnDefinition {
  return { name, type, format: opts.format ?? '', description, priority: opts.priority ?? 0 };
}

export const nameColumn = column('Name', 'string', docs.objectMeta.name, { format: 'name' });
export const ageColumn = column('Age', 'string', docs.objectMeta.creationTimestamp);

export function nameOf(obj: KubeObject): string {
  return obj.metadata?.name ?? '';
}

export function ageOf(obj: KubeObject, now: Date): string {
  return translateTimestampSince(obj.metadata?.creationTimestamp, now);
}
