// aws-local-stepfunctions 3 uses Promise.withResolvers (Node 22+): the same polyfill as the simulation's.
import '../src/simulate/polyfill';
