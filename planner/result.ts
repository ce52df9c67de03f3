// Results the broker answers itself (SET/SHOW, catalog constants), in the executor's shape.
import type { QueryResult, ResultColumn, Value } from '../engine/query.ts';

/** A QueryResult the broker produced; parameterStatus lists settings the client must be told. */
export interface BrokerResult extends QueryResult {
  parameterStatus?: Array<[string, string]>;
  /** Sent to the client as NoticeResponse before the result (e.g. nodes missing from partial results). */
  notices?: string[];
}

export function staticResult(command: string, columns: ResultColumn[], rows: Value[][] = []): BrokerResult {
  return {
    command,
    columns,
    chunks: (async function* () {
      if (rows.length > 0) yield rows;
    })(),
  };
}
