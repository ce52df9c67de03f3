// The ParameterStatus set PostgreSQL 16 reports after authentication (every GUC_REPORT
// setting), with the values of a read-only UTF-8 server on UTC. Clients read these to
// decide how to parse values (integer_datetimes, DateStyle) and what features exist
// (server_version, standard_conforming_strings).

/** PostgreSQL 16 reports its version like this; libpq and pgjdbc parse the leading number. */
export const defaultServerVersion = '16.0 (wiretap 0.1.0)';

export function initialParameterStatus(opts: {
  user: string;
  applicationName: string;
  serverVersion: string;
}): Array<[string, string]> {
  return [
    ['application_name', opts.applicationName],
    ['client_encoding', 'UTF8'],
    ['DateStyle', 'ISO, MDY'],
    ['default_transaction_read_only', 'on'],
    ['in_hot_standby', 'off'],
    ['integer_datetimes', 'on'],
    ['IntervalStyle', 'postgres'],
    ['is_superuser', 'off'],
    ['scram_iterations', '4096'],
    ['server_encoding', 'UTF8'],
    ['server_version', opts.serverVersion],
    ['session_authorization', opts.user],
    ['standard_conforming_strings', 'on'],
    ['TimeZone', 'UTC'],
  ];
}
