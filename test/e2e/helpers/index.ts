/** Shared end-to-end helpers: the offline runtime per test file, clients, readers, and waitFor. */
export * from './runtime.js';
export * from './waitFor.js';
