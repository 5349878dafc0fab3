/**
 * nats-server configuration files for tsnats (`-c FILE`): load, validate and map them onto ServerConfig.
 * See README "Configuration file" for the supported keys.
 */
export type { AccountKeyHandler } from './auth.js';
export { ConfigError, type ConfigIssue } from './errors.js';
export {
  configFromMap,
  type LoadedConfig,
  type LoadOptions,
  loadConfigFile,
  loadConfigText,
  type MapOptions,
  NOT_SUPPORTED_YET,
} from './load.js';
export {
  type ConfigField,
  ConfigReader,
  describeValue,
  type ForEachKeyOptions,
  type KeyHandlers,
} from './reader.js';
export {
  type ConfigKeyHandler,
  registerAccountConfigKey,
  registerConfigKey,
  registeredAccountConfigKeys,
  registeredConfigKeys,
} from './registry.js';
export { CIPHER_SUITES } from './tls.js';
export { findUsedVariables } from './variables.js';
