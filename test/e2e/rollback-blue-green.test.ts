/** Automatic rollback of a blue-green deployment (test/helpers/strategy-rollback.ts). */
import { strategyRollbackSuite } from '../helpers/strategy-rollback.js';

strategyRollbackSuite('blue-green', '{type: blue-green}');
