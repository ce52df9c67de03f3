// MySQL parser options and their defaults.
export interface MysqlOptions {
  /** Statement text kept per row (after binding prepared-statement parameters). */
  queryCap: number;
  /** String/blob parameter values kept per value when binding. */
  paramCap: number;
  /** Commands waiting for a response per connection before the oldest is dropped (counted). */
  maxPendingRequests: number;
  /** Prepared statements remembered per connection (oldest forgotten first). */
  maxStatements: number;
}

export const defaultMysqlOptions: MysqlOptions = {
  queryCap: 4096,
  paramCap: 256,
  maxPendingRequests: 256,
  maxStatements: 1024,
};
