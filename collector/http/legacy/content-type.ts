// FROZEN pre-rework copy of the HTTP parser (oracle for the differential test and the parse bench's
// baseline while the rework is measured). Not used by the collector.
// Pixie's content_type enum for http_events: 0 unknown, 1 JSON, 2 gRPC.
export const ContentType = { unknown: 0, json: 1, grpc: 2 } as const;

export function contentTypeOf(value: string | undefined): number {
  if (value === undefined) return ContentType.unknown;
  const v = value.toLowerCase();
  if (v.startsWith('application/grpc')) return ContentType.grpc;
  if (v.includes('json')) return ContentType.json;
  return ContentType.unknown;
}
