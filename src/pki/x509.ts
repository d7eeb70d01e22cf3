/**
 * The one door to `@peculiar/x509`: it needs the Reflect metadata API (its tsyringe container calls it at load),
 * and ESM evaluates a module's imports in source order, so importing it through here loads the polyfill first.
 */
import 'reflect-metadata';

export * from '@peculiar/x509';
