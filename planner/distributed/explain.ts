// EXPLAIN of a distributed plan: strategy, nodes chosen and pruned, pushed predicates, fragments.
import type { DistributedPlan } from './plan.ts';
import type { NodeChoice } from './executor.ts';

export function explainRows(plan: DistributedPlan, choice: NodeChoice, pruningAvailable: boolean): string[] {
  const names = (ns: { name: string }[]) => (ns.length ? ns.map((n) => n.name).join(', ') : '(none)');
  const lines = [`Distributed plan: ${plan.strategy}`];
  if (plan.reason) lines.push(`  why: ${plan.reason}`);
  lines.push(`  nodes chosen (${choice.chosen.length}): ${names(choice.chosen)}`);
  const filter = plan.podFilter ? Object.entries(plan.podFilter).map(([k, v]) => `${k} in (${v.join(', ')})`).join(' and ') : null;
  lines.push(`  nodes pruned (${choice.pruned.length}): ${names(choice.pruned)}${filter ? ` by ${filter}${pruningAvailable ? '' : ' (no cluster metadata: nothing pruned)'}` : ''}`);
  lines.push(`  pushed predicates: ${plan.pushedPredicates.length ? plan.pushedPredicates.join(' AND ') : '(none)'}`);
  for (const i of plan.inputs) lines.push(`  node fragment -> ${i.name}: ${i.nodeSql}`);
  lines.push(`  merge fragment (broker): ${plan.mergeSql}`);
  return lines;
}
