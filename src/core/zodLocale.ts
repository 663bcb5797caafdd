/**
 * zod/mini ships without messages ("Invalid input"); the classic build loads English on import.
 * Schemas here use zod/mini (esbuild drops what a bundle does not use: ~70 KB a function), so
 * English is configured once, by this module, which names.ts imports (every schema reaches it).
 */
import { en } from 'zod/locales';
import * as z from 'zod/mini';

z.config(en());
