/** tsnats: a NATS server for Node.js. `import { Server } from 'tsnats'` embeds one. */

export type { AuthorizationConfig, Permissions, UserConfig } from './auth/types.js';
export type { ConfigFileValue } from './config/embedded.js';
export { ConfigError, loadConfigFile } from './config/index.js';
export { ClosedReason } from './server/closed-reason.js';
export { CONNECTION_ERROR_CHANNEL, type ConnectionErrorEvent } from './server/io.js';
export { defaultOptions, type ServerOptions } from './server/options.js';
export { Server, type ServerConfig, type ServerInput, type ServerStats } from './server/server.js';
export { TSNATS_VERSION, VERSION } from './server/version.js';
