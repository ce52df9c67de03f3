// Pixie's content_type enum for http_events: 0 unknown, 1 JSON, 2 gRPC.
export const ContentType = { unknown: 0, json: 1, grpc: 2 } as const;

// Services answer with the same few Content-Type values: remember the last one.
let lastValue = '';
let lastType: number = ContentType.unknown;

export function contentTypeOf(value: string | undefined): number {
  if (value === undefined) return ContentType.unknown;
  if (value === lastValue) return lastType;
  const v = value.toLowerCase();
  const type = v.startsWith('application/grpc') ? ContentType.grpc : v.includes('json') ? ContentType.json : ContentType.unknown;
  lastValue = value;
  lastType = type;
  return type;
}
