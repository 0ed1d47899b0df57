// Which group holds a security group rule id (DescribeSecurityGroupRules by id, tags on sgr-
// ids): an index per scope, built from the store on first use there and kept current from the
// store's change events. Made once per server by ec2Service.
import type { Ctx } from '../../core/context.ts';
import type { Store } from '../../store/store.ts';
import { KIND, type SecurityGroupDoc } from '../../core/documents/ec2.ts';

export class RuleIndex {
  private readonly byScope = new Map<string, Map<string, string>>();

  constructor(private readonly store: Store) {
    store.onChange((events) => {
      for (const e of events) {
        if (e.kind !== KIND.sg) continue;
        const idx = this.byScope.get(e.scope);
        if (!idx) continue;
        for (const r of (e.before as SecurityGroupDoc | undefined)?.rules ?? []) idx.delete(r.id);
        for (const r of (e.after as SecurityGroupDoc | undefined)?.rules ?? []) idx.set(r.id, e.id);
      }
    });
  }

  private index(scope: string): Map<string, string> {
    let idx = this.byScope.get(scope);
    if (!idx) {
      idx = new Map();
      for (const g of this.store.table(KIND.sg, scope).values() as Iterable<SecurityGroupDoc>) for (const r of g.rules) idx.set(r.id, g.id);
      this.byScope.set(scope, idx);
    }
    return idx;
  }

  /** The group that owns a rule id (seeing this call's own changes), if any. */
  groupOf(ctx: Ctx, ruleId: string): SecurityGroupDoc | undefined {
    const gid = this.index(ctx.scope).get(ruleId);
    if (gid) {
      const g = ctx.tx.get<SecurityGroupDoc>(KIND.sg, ctx.scope, gid);
      if (g?.rules.some((r) => r.id === ruleId)) return g;
    }
    return ctx.tx.all<SecurityGroupDoc>(KIND.sg, ctx.scope).find((g) => g.rules.some((r) => r.id === ruleId));
  }
}
