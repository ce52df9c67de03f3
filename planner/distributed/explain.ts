// EXPLAIN of a distributed plan: strategy, nodes chosen and pruned, pushed predicates, fragments.
import type { DistributedPlan } from './plan.ts';
import type { NodeChoice, PruneReason } from './executor.ts';

/** Nodes grouped by why they were left out: "a, b by pod in (x); c [range] by time_: …". */
function grouped(nodes: { name: string }[], reasons: Map<string, PruneReason>): string {
  const groups = new Map<string, string[]>();
  for (const n of nodes) {
    const why = reasons.get(n.name);
    groups.set(why?.by ?? '', [...(groups.get(why?.by ?? '') ?? []), why?.detail ? `${n.name} ${why.detail}` : n.name]);
  }
  return [...groups].map(([why, ns]) => `${ns.join(', ')}${why ? ` ${why}` : ''}`).join('; ');
}

export function explainRows(plan: DistributedPlan, choice: NodeChoice, pruningAvailable: boolean): string[] {
  const names = (ns: { name: string }[]) => (ns.length ? ns.map((n) => n.name).join(', ') : '(none)');
  const lines = [`Distributed plan: ${plan.strategy}`];
  if (plan.reason) lines.push(`  why: ${plan.reason}`);
  lines.push(`  nodes chosen (${choice.chosen.length}): ${names(choice.chosen)}`);
  const pruned = grouped(choice.pruned, choice.reasons);
  const noMetadata = plan.podFilter && !pruningAvailable ? ` (by ${Object.keys(plan.podFilter).join('/')}: no cluster metadata, nothing pruned)` : '';
  lines.push(`  nodes pruned (${choice.pruned.length}): ${pruned || '(none)'}${noMetadata}`);
  if (plan.timeFilter) lines.push(`  time_ bounds: >= ${plan.timeFilter.lower.join(', ') || '(none)'}; <= ${plan.timeFilter.upper.join(', ') || '(none)'}`);
  for (const i of plan.inputs) {
    const reads = (i.timeFilters ?? []).map((f) => `[>= ${f.lower.join(', ') || '(none)'}; <= ${f.upper.join(', ') || '(none)'}]`);
    if (reads.length) lines.push(`  time_ bounds of ${i.name}: ${reads.join(' or ')}`);
  }
  lines.push(`  pushed predicates: ${plan.pushedPredicates.length ? plan.pushedPredicates.join(' AND ') : '(none)'}`);
  if (choice.chosen.length === 1) {
    // the one-node rule: that node's answer to the whole statement is the answer
    lines.push(`  one node holds every matching row: it runs the whole statement, no merge`);
    return lines;
  }
  for (const i of plan.inputs) {
    const per = choice.perInput?.get(i.name);
    const skipped = per?.skipped.length ? ` [asked: ${names(per.nodes)}; not asked: ${grouped(per.skipped, per.reasons)}]` : '';
    lines.push(`  node fragment -> ${i.name}${skipped}: ${i.nodeSql}`);
  }
  lines.push(`  merge fragment (broker): ${plan.mergeSql}`);
  return lines;
}
