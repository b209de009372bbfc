/**
 * The embedded scanner's backend name, apart from its runner (embedded-backend.ts) so that modules
 * the scan worker uses (the aggregate) can name it without importing the runner, which imports the worker.
 */
export const EMBEDDED_BACKEND = 'embedded';
