/** Shared end-to-end helpers: the offline runtime per test file, clients, readers, and waitFor. */

export * from '../../helpers/waitFor.js';
export * from './runtime.js';
