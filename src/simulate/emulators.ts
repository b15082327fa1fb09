/** Moved to `src/local-world/emulators.ts`; kept so that existing imports keep working. */
export * from '../local-world/emulators';
