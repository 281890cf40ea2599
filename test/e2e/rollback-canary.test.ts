/** Automatic rollback of a canary deployment (test/helpers/strategy-rollback.ts), with the default 30 s bake. */
import { strategyRollbackSuite } from '../helpers/strategy-rollback.js';

strategyRollbackSuite('canary', '{type: canary}');
