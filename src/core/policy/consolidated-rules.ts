/**
 * How istiod files the DestinationRules of one namespace before any client looks them up
 * (docs/semantics.md §3.6; `setDestinationRules` in pilot/pkg/model/push_context.go and
 * `mergeDestinationRule` in pilot/pkg/model/destination_rule.go).
 *
 * Rules are read oldest first, rules with a workloadSelector before the others. Each joins a
 * pool (a namespace's own clients', its exported rules, the root namespace's private rules),
 * where it either merges into an earlier *consolidated rule* for the same host string or becomes
 * one of its own. A client then takes, from the consolidated rules of the most specific host, the
 * first whose selector picks it, else the last one without a selector (`SidecarScope.DestinationRule`
 * in pilot/pkg/model/sidecar.go).
 */
import type { DestinationRule, Labels, Subset } from '../model/model.js';
import { byCreation, selectorMatches } from '../mesh/mesh-index.js';
import { compareSpecificity, hostMatches } from '../mesh/hosts.js';

/** The exportTo set Istio files a rule under: empty when the rule names none. */
export type ExportSet = ReadonlySet<string>;

/** Rules merged into one, as a client receives them. */
export interface ConsolidatedRule {
  /** The rule the others merged into: its namespace, selector and exportTo stand for all. */
  readonly first: DestinationRule;
  readonly exportTo: ExportSet;
  /** The first rule's selector when Istio honours selectors, else null. */
  readonly selector: Labels | null;
  /** The oldest merged rule with a trafficPolicy: a later rule's policy is adopted only while none is. */
  policyFrom: DestinationRule | undefined;
  /** The subsets of every merged rule; a repeated name keeps the first. */
  readonly subsets: Subset[];
}

/** One pool of filed rules. */
export interface RulePool {
  /** Consolidated rules by resolved host, in the order Istio files them. */
  readonly byHost: ReadonlyMap<string, readonly ConsolidatedRule[]>;
  /**
   * The hosts, most specific first (`compareSpecificity`): the first that matches a service is
   * the one Istio's `MostSpecificHostMatch` picks, found without comparing the others.
   */
  readonly hosts: readonly string[];
}

/** The most specific host of a pool that matches `fqdn`, if any (Istio's `MostSpecificHostMatch`). */
export function mostSpecificHost(pool: RulePool, fqdn: string): string | undefined {
  const hosts = pool.hosts;
  for (let i = 0; i < hosts.length; i++) if (hostMatches(hosts[i]!, fqdn)) return hosts[i];
  return undefined;
}

/** What filing needs to know of a rule beyond the rule itself. */
export interface Filed {
  readonly rule: DestinationRule;
  readonly host: string;
  readonly exportTo: ExportSet;
  readonly selector: Labels | null;
}

/** Istio's filing order: selector rules first, then oldest first (`sortConfigBySelectorAndCreationTime`). */
export function filingOrder(a: Filed, b: Filed): number {
  if ((a.selector === null) !== (b.selector === null)) return a.selector ? -1 : 1;
  return byCreation(a.rule, b.rule);
}

function sameSet(a: ExportSet, b: ExportSet): boolean {
  if (a.size !== b.size) return false;
  for (const e of a) if (!b.has(e)) return false;
  return true;
}

function covers(a: ExportSet, b: ExportSet): boolean {
  for (const e of b) if (!a.has(e)) return false;
  return true;
}

function sameLabels(a: Labels | null, b: Labels | null): boolean {
  const ka = a ? Object.keys(a) : [];
  const kb = b ? Object.keys(b) : [];
  return ka.length === kb.length && ka.every((k) => a![k] === b?.[k]);
}

/**
 * Files rules, already in filing order, into one pool. With `keepExportsApart`
 * (ENABLE_ENHANCED_DESTINATIONRULE_MERGE), a rule merges only into a consolidated rule whose
 * exportTo set equals its own or that its set covers; selector rules never merge with rules of
 * another selector. Istio decides whether to file the rule on its own from the last consolidated
 * rule it was compared with, so a rule can both merge into one and stand apart.
 */
export function fileRules(rules: readonly Filed[], keepExportsApart: boolean): RulePool {
  const pool = new Map<string, ConsolidatedRule[]>();
  for (const r of rules) {
    const own: ConsolidatedRule = {
      first: r.rule,
      exportTo: r.exportTo,
      selector: r.selector,
      policyFrom: r.rule.trafficPolicy ? r.rule : undefined,
      subsets: [...(r.rule.subsets ?? [])],
    };
    const list = pool.get(r.host);
    if (!list) {
      pool.set(r.host, [own]);
      continue;
    }
    let apart = true;
    for (const c of list) {
      if (keepExportsApart) {
        const equal = sameSet(r.exportTo, c.exportTo);
        if (!equal && !(c.exportTo.size > 0 && covers(r.exportTo, c.exportTo))) {
          apart = true;
          continue;
        }
        apart = !equal;
      }
      const bothSelect = r.selector !== null && c.selector !== null;
      const selectorsEqual = sameLabels(r.selector, c.selector);
      if (bothSelect && !selectorsEqual) {
        apart = true;
        continue;
      }
      if ((r.selector === null && c.selector === null) || bothSelect) apart = false;
      if (!c.policyFrom && r.rule.trafficPolicy) c.policyFrom = r.rule;
      for (const sub of r.rule.subsets ?? []) if (!c.subsets.some((x) => x.name === sub.name)) c.subsets.push(sub);
    }
    if (apart) list.push(own);
  }
  return { byHost: pool, hosts: [...pool.keys()].sort(compareSpecificity) };
}

/**
 * The rule a sidecar client uses among the consolidated rules of one host: the first whose
 * selector (in the client's namespace) picks it, else the last without a selector. Returns the
 * rule whose trafficPolicy applies (the first rule when none has one), or null.
 */
export function ruleForClient(rules: readonly ConsolidatedRule[], ns: string, labels: Labels): DestinationRule | null {
  const c = consolidatedForClient(rules, ns, labels);
  return c ? (c.policyFrom ?? c.first) : null;
}

/** The consolidated rule that `ruleForClient` takes its rule from, with the merged subsets. */
export function consolidatedForClient(rules: readonly ConsolidatedRule[], ns: string, labels: Labels): ConsolidatedRule | null {
  let catchAll: ConsolidatedRule | undefined;
  for (const c of rules) {
    if (c.selector === null) catchAll = c;
    else if (c.first.namespace === ns && selectorMatches(c.selector, labels)) return c;
  }
  return catchAll ?? null;
}

/** True when a consolidated rule's exportTo lets clients of `ns` use it from another namespace's pool. */
export function exportedTo(c: ConsolidatedRule, ns: string): boolean {
  return c.exportTo.size === 0 || c.exportTo.has('*') || c.exportTo.has(ns);
}
