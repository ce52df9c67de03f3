// The protocol interface: a new protocol is one folder implementing `Protocol` (infer a message
// kind from a payload's first bytes, find a frame boundary to resynchronise, parse frames from a
// byte stream, stitch requests and responses into rows). The tracker and the parse driver
// (conn/parse-driver.ts) know nothing about any particular protocol.
import type { RowSink, TraceRoleValue } from '../engine/schema.ts';
import type { CollectorStats } from './stats.ts';

export type MessageType = 'request' | 'response';

/** What parseFrame reports. A parser may consume bytes in any case (e.g. part of a body). */
export const ParseStatus = {
  /** A frame completed; it was queued inside the protocol connection. */
  frame: 0,
  /** Nothing more can be parsed until more bytes arrive. */
  needMore: 1,
  /** The bytes at the head are not a valid frame: the driver counts a failure and resyncs. */
  invalid: 2,
} as const;
export type ParseStatusValue = (typeof ParseStatus)[keyof typeof ParseStatus];

/**
 * One direction's byte stream as a parser sees it: bytes from `head` on, some of which may be
 * known gaps (bytes the capture moved but did not copy). Positions are stream offsets.
 */
export interface StreamReader {
  /** Stream position of the first unconsumed byte. */
  readonly head: number;
  /** True once the connection closed and every byte has been delivered. */
  readonly ended: boolean;
  /** Known bytes from head (data plus gaps). */
  available(): number;
  /** Length of a gap starting exactly at head (0 when head holds data or nothing). */
  headGap(): number;
  /** Captured bytes from head up to the first gap or the end (empty if head is a gap). */
  contiguous(): Buffer;
  /**
   * A prefix of contiguous() without concatenating: the captured bytes of the first piece at
   * head (empty if head is a gap). For parsers that usually need only the first bytes (a head,
   * or body bytes they count): no copy of the bytes behind it.
   */
  firstChunk(): Buffer;
  /**
   * firstChunk() without making a Buffer of its own: the buffer holding the first piece, whose
   * bytes at head are [pieceStart, pieceEnd) (set by this call; empty when head is a gap). For
   * parsers that read at an offset: a message consumed from the middle of an event's payload
   * costs no view of the rest.
   */
  piece(): Buffer;
  readonly pieceStart: number;
  readonly pieceEnd: number;
  /** True when a gap follows the contiguous bytes (so waiting will not extend them). */
  gapFollows(): boolean;
  /** Drops n bytes (data or gap) from head; n <= available(). */
  consume(n: number): void;
  /** Wall-clock ns of the event that carried the byte at head + offset. */
  timeAt(offset: number): bigint;
}

/** What a protocol needs to know about its connection when it emits rows. */
export interface ConnectionInfo {
  readonly upid: { asid: number; pid: number; startTicks: bigint };
  readonly localAddr: string;
  readonly localPort: number;
  readonly remoteAddr: string;
  readonly remotePort: number;
  readonly role: TraceRoleValue;
  /** Bytes came from a TLS library (rows get encrypted = true). */
  readonly encrypted?: boolean;
}

/** Per-connection parser and stitcher state of one protocol. */
export interface ProtocolConnection {
  /** Parse (at most) one frame at the head of the stream carrying `type` messages. */
  parseFrame(type: MessageType, stream: StreamReader): ParseStatusValue;
  /** True while a frame is partly consumed: a gap at head then belongs to that frame. */
  midFrame(type: MessageType): boolean;
  /** The stream ended (connection closed): complete a frame delimited by close, or drop it. */
  endOfStream(type: MessageType, stream: StreamReader): void;
  /** The driver is resynchronising this direction after a failure at stream time `timeNs`. */
  onParseFailure(type: MessageType, timeNs: bigint): void;
  /** Pair queued requests and responses into rows. */
  stitch(conn: ConnectionInfo, sink: RowSink, stats: CollectorStats): void;
  /** Drop requests older than `beforeNs` that got no response; returns how many. */
  expire(beforeNs: bigint): number;
  /** Requests still waiting for a response. */
  pendingRequests(): number;
  /** The connection is being released (after a final stitch): count whatever is left unpaired. */
  release(): void;
  /** Set when the connection stopped speaking this protocol (e.g. HTTP Upgrade): stop parsing. */
  readonly disabled: boolean;
  /**
   * The protocol asked for TLS in plaintext (e.g. MySQL's SSLRequest): the socket now carries
   * ciphertext, ignored (not a parse failure, and the kernel must not disable the connection:
   * the TLS library's plaintext follows on it).
   */
  readonly awaitingTls?: boolean;
  /**
   * The TLS library's plaintext starts (new stream positions). Return true to go on with this
   * parser's state; false (or absent) and the tracker starts a fresh parser.
   */
  startTls?(): boolean;
}

export interface Protocol {
  readonly name: string;
  /** Longest frame-start marker: resync keeps this many bytes − 1 in case a marker is split. */
  readonly maxMarkerLength: number;
  /**
   * Cheap look at a stream's first bytes: which kind of message starts here, if ours;
   * 'needMore' when the bytes so far are a prefix of one of ours (e.g. a 1-byte read).
   */
  infer(head: Buffer): MessageType | 'needMore' | null;
  /** Offset of the next plausible frame start in buf at or after `from`, or -1. */
  findFrameBoundary(type: MessageType, buf: Buffer, from: number): number;
  newConnection(): ProtocolConnection;
}
