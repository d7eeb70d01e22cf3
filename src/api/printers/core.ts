// The simple core/v1 printers (upstream printNamespace, printSecret, printConfigMap, printServiceAccount).
import type { ConfigMap, Namespace, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { ageColumn, ageOf, column, nameColumn, nameOf, type Printer } from './columns.js';
import { docs } from './descriptions.js';

function count(map: Record<string, unknown> | undefined): number {
  return Object.keys(map ?? {}).length;
}

export const namespacePrinter: Printer = {
  columns: [nameColumn, column('Status', 'string', 'The status of the namespace'), ageColumn],
  cells: (obj, now) => [nameOf(obj), (obj as Namespace).status?.phase ?? '', ageOf(obj, now)],
};

export const secretPrinter: Printer = {
  columns: [
    nameColumn,
    column('Type', 'string', docs.secret.type),
    column('Data', 'string', docs.secret.data),
    ageColumn,
  ],
  cells: (obj, now) => {
    const secret = obj as Secret;
    return [nameOf(obj), secret.type ?? '', count(secret.data), ageOf(obj, now)];
  },
};

export const configMapPrinter: Printer = {
  columns: [nameColumn, column('Data', 'string', docs.configMap.data), ageColumn],
  cells: (obj, now) => {
    const cm = obj as ConfigMap;
    return [nameOf(obj), count(cm.data) + count(cm.binaryData), ageOf(obj, now)];
  },
};

export const serviceAccountPrinter: Printer = {
  columns: [nameColumn, column('Secrets', 'string', docs.serviceAccount.secrets), ageColumn],
  cells: (obj, now) => [nameOf(obj), ((obj as ServiceAccount).secrets ?? []).length, ageOf(obj, now)],
};
