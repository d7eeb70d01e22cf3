/**
 * The slice of the Reflect metadata API that tsyringe needs.
 *
 * `@peculiar/x509` resolves its algorithm providers through tsyringe, and tsyringe refuses to load unless
 * `Reflect.getMetadata` exists (x509's README: "Reflect Polyfill Required"). The usual polyfill,
 * `reflect-metadata`, is not a dependency of this project, so this module supplies the three functions tsyringe
 * calls. x509 emits no design-time metadata, so a plain per-target store is all that is ever read.
 * Import this module only through `./x509.js`, which orders it before the library.
 */

type MetadataKey = unknown;
type MetadataProperty = string | symbol | undefined;

const store = new WeakMap<object, Map<MetadataProperty, Map<MetadataKey, unknown>>>();

function ownMap(target: object, property: MetadataProperty, create: boolean): Map<MetadataKey, unknown> | undefined {
  let byProperty = store.get(target);
  if (byProperty == null) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (entries == null && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

function getOwnMetadata(key: MetadataKey, target: object, property?: MetadataProperty): unknown {
  return ownMap(target, property, false)?.get(key);
}

// Like reflect-metadata, inherited metadata is found by walking the prototype chain.
function getMetadata(key: MetadataKey, target: object, property?: MetadataProperty): unknown {
  for (let t: object | null = target; t != null; t = Object.getPrototypeOf(t) as object | null) {
    const entries = ownMap(t, property, false);
    if (entries?.has(key)) return entries.get(key);
  }
  return undefined;
}

function defineMetadata(key: MetadataKey, value: unknown, target: object, property?: MetadataProperty): void {
  ownMap(target, property, true)?.set(key, value);
}

// A real polyfill loaded earlier (or later added as a dependency) wins.
if (typeof (Reflect as { getMetadata?: unknown }).getMetadata !== 'function') {
  Object.assign(Reflect, { getMetadata, getOwnMetadata, defineMetadata });
}
