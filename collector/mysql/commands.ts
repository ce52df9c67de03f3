// MySQL command bytes (client → server, first payload byte of a seq-0 packet) and which of them
// the server answers.
export const Com = {
  sleep: 0x00, quit: 0x01, initDb: 0x02, query: 0x03, fieldList: 0x04, createDb: 0x05, dropDb: 0x06,
  refresh: 0x07, shutdown: 0x08, statistics: 0x09, processInfo: 0x0a, connect: 0x0b, processKill: 0x0c,
  debug: 0x0d, ping: 0x0e, time: 0x0f, delayedInsert: 0x10, changeUser: 0x11, binlogDump: 0x12,
  tableDump: 0x13, connectOut: 0x14, registerSlave: 0x15, stmtPrepare: 0x16, stmtExecute: 0x17,
  stmtSendLongData: 0x18, stmtClose: 0x19, stmtReset: 0x1a, setOption: 0x1b, stmtFetch: 0x1c,
  daemon: 0x1d, binlogDumpGtid: 0x1e, resetConnection: 0x1f,
} as const;

/** Highest command byte a request may start with (inference and resync reject others). */
export const MAX_COMMAND = 0x1f;

/** Commands that the server never answers. */
export function hasResponse(cmd: number): boolean {
  return cmd !== Com.quit && cmd !== Com.stmtClose && cmd !== Com.stmtSendLongData;
}

/** Commands whose payload after the command byte is text worth recording. */
export function isTextCommand(cmd: number): boolean {
  return cmd === Com.query || cmd === Com.initDb || cmd === Com.stmtPrepare || cmd === Com.createDb
    || cmd === Com.dropDb || cmd === Com.fieldList;
}

/** Commands seen in practice: inference of a request and resync accept only these. */
const COMMON = new Set<number>([
  Com.quit, Com.initDb, Com.query, Com.fieldList, Com.statistics, Com.processKill, Com.debug, Com.ping,
  Com.changeUser, Com.stmtPrepare, Com.stmtExecute, Com.stmtSendLongData, Com.stmtClose, Com.stmtReset,
  Com.setOption, Com.stmtFetch, Com.resetConnection,
]);

export function isCommonCommand(cmd: number): boolean {
  return COMMON.has(cmd);
}
