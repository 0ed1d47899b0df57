// The security-group policy as its callers hold it: the compiled index with its verdict path
// (CompiledPolicy: compiled-policy.ts over policy-index.ts, words named in layout.ts) and, over the
// same rules, the rule model for explanations and analysis (RuleModel: rule-model.ts). Policy IS
// the compiled index — `allowsAt` is its own method, behind no delegate — and HAS a rule model.
import { CompiledPolicy } from './compiled-policy.ts';
import { RuleModel } from './rule-model.ts';
import type { Direction, GateQuery, InterfaceInput, RuleInput } from './sg-rules.ts';

export { PROTO, protoByName, protocolNumber, hasPortSpace, portPoint, ruleInterval } from './sg-rules.ts';
export type { Direction, RuleInput, GroupInput, InterfaceInput, GateQuery } from './sg-rules.ts';

export class Policy extends CompiledPolicy {
  private readonly model = new RuleModel(this);

  /** The rules that allow the connection through this gate (empty when none does). */
  matchingRules(interfaceId: string, q: GateQuery): RuleInput[] {
    return this.model.matchingRules(interfaceId, q);
  }

  /** Rules of the interface in that direction for the same protocol, as hints for a reject. */
  nearRules(interfaceId: string, q: GateQuery): RuleInput[] {
    return this.model.nearRules(interfaceId, q);
  }

  /** What the gate admits for one protocol and port (see RuleModel.admitted). */
  admitted(
    interfaceId: string,
    direction: Direction,
    proto: number,
    port?: number,
    icmpType?: number,
    icmpCode?: number,
  ): ReturnType<RuleModel['admitted']> {
    return this.model.admitted(interfaceId, direction, proto, port, icmpType, icmpCode);
  }

  /** The interfaces of a VPC holding a group (for group references). */
  membersOf(vpcId: string, groupId: string): InterfaceInput[] {
    return this.model.membersOf(vpcId, groupId);
  }
}
