/** Moved to the shared synth module `src/synth/assembly.ts`; kept until every import names it directly. */
export * from '../synth/assembly';
