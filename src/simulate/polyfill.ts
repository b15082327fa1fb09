/** Moved to `src/local-world/polyfill.ts`; kept so that existing imports keep working. */
import '../local-world/polyfill';
