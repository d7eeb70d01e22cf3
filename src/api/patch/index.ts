// Patching for the API server: strategic merge patch, patch metadata per kind, and server-side apply with
// managedFields. Pure functions on parsed JSON; errors a client caused are PatchError.
export { applyConflictMessage, applyPatch, newApplyConflict, updateManagedFields } from './apply.js';
export type { ApplyOptions, ApplyResult, UpdateOptions } from './apply.js';
export { FieldSet, pathString } from './field-set.js';
export type { FieldPath } from './field-set.js';
export type { JsonObject, JsonValue } from './json.js';
export { decodeManagedFields, encodeManagedFields, managerLabel } from './managed-fields.js';
export type { ApplyConflict, ManagedFieldsEntry, Manager, Operation } from './managed-fields.js';
export { objectMetaSchema, patchSchemaFor, podSpecSchema } from './merge-keys.js';
export type { PatchField, PatchSchema } from './merge-keys.js';
export { PatchError } from './patch-error.js';
export { strategicMergePatch } from './strategic-merge.js';
