/** Automatic rollback of a rolling deployment (test/helpers/strategy-rollback.ts). */
import { strategyRollbackSuite } from '../helpers/strategy-rollback.js';

strategyRollbackSuite('rolling', '{type: rolling, maxUnavailable: 1}');
