// HTTP parser options and their defaults.
export interface HttpOptions {
  /** Body bytes captured per message (the original size is kept in *_body_size). */
  bodyCap: number;
  /** Longest request/status line + header block accepted. */
  maxHeadBytes: number;
  maxHeaders: number;
  /** A declared body length (Content-Length, chunk sizes) above this is treated as garbage. */
  maxBodyBytes: number;
  /** Header names (any case) whose values are replaced by "<redacted>". */
  redactHeaders: string[];
  /** Requests waiting for a response, per connection, before the oldest is dropped. */
  maxPendingRequests: number;
  /** gzip/deflate bodies are decoded for capture: compressed bytes kept (0: no decoding). */
  maxCompressedCapture: number;
  /** Bound on one decode's output, whatever the compression ratio. */
  maxDecodedBytes: number;
}

export const DEFAULT_REDACTED_HEADERS = [
  'authorization', 'cookie', 'set-cookie', 'proxy-authorization', 'x-api-key',
];

export const defaultHttpOptions: HttpOptions = {
  bodyCap: 512,
  maxHeadBytes: 64 * 1024,
  maxHeaders: 256,
  maxBodyBytes: 1024 * 1024 * 1024,
  redactHeaders: DEFAULT_REDACTED_HEADERS,
  maxPendingRequests: 1024,
  maxCompressedCapture: 64 * 1024,
  maxDecodedBytes: 1024 * 1024,
};
