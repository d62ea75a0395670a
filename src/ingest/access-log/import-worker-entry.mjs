// Worker threads do not inherit the main thread's tsx loader: register it, then run the worker.
import { register } from 'tsx/esm/api';

register();
await import('./import-worker.ts');
