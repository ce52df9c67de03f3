// Public surface of the Postgres wire server.
export { PgServer, isLoopback, type PgServerOptions, type PgServerAddress } from './server.ts';
export { trustAuth, cleartextPasswordAuth, AuthCode, type AuthStrategy, type AuthExchange } from './auth.ts';
export type { Logger } from './logger.ts';
