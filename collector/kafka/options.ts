// Kafka parser options and their defaults.
export interface KafkaOptions {
  /** Bytes of each frame kept for decoding (the rest is skipped; summaries say "truncated"). */
  frameKeep: number;
  /** Longest JSON summary stored; longer ones list topic counts instead of topics. */
  summaryCap: number;
  /** Requests waiting for a response per connection before the oldest is dropped (counted). */
  maxPendingRequests: number;
}

export const defaultKafkaOptions: KafkaOptions = {
  frameKeep: 64 * 1024,
  summaryCap: 4096,
  maxPendingRequests: 1024,
};
