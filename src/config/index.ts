/** config/: run settings, from flags > DEPLOYER_* environment > deployer.config.yaml > defaults. */
export { resolveSettings, parseDuration, DEFAULTS, type Settings, type SettingFlags } from './settings.js';
