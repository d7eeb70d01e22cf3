/**
 * The one door to `@peculiar/x509`: importing the library anywhere else could evaluate it before the Reflect
 * polyfill it needs, and it would throw at load. ESM evaluates a module's imports in source order, so the
 * polyfill below always runs first.
 */
import './reflect-polyfill.js';

export * from '@peculiar/x509';
