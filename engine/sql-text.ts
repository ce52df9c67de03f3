// Small helpers for SQL text the engine writes itself (never user input without these).

export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function literal(v: string | null | undefined): string {
  return v === null || v === undefined ? 'NULL' : `'${v.replace(/'/g, "''")}'`;
}

/** µs since the epoch as a TIMESTAMPTZ expression (NULL for NaN). */
export function timestampLiteral(us: number): string {
  return Number.isFinite(us) ? `make_timestamp(${Math.round(us)}::BIGINT)::TIMESTAMPTZ` : 'NULL::TIMESTAMPTZ';
}
