/** Automatic rollback of a big-bang deployment (test/helpers/strategy-rollback.ts). */
import { strategyRollbackSuite } from '../helpers/strategy-rollback.js';

strategyRollbackSuite('big-bang', '{type: big-bang}');
