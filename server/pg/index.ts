// Public surface of the Postgres wire server.
export { PgServer, isLoopback, passwordAuth, type PgServerOptions, type PgServerAddress, type PasswordAuthMethod } from './server.ts';
export { parseUsers } from './password-auth.ts';
export { trustAuth, cleartextPasswordAuth, AuthCode, type AuthStrategy, type AuthExchange } from './auth.ts';
export type { Logger } from './logger.ts';
