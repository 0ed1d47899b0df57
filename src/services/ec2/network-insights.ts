// Reachability Analyzer's API (Network Insights paths and analyses), answered by the data
// plane's compiled policy: a static analysis of the configuration, as AWS's is — "It does not
// send packets or analyze the data plane" (VPC Reachability Analyzer guide, How it works).
import type {
  CreateNetworkInsightsPathRequest,
  CreateNetworkInsightsPathResult,
  DeleteNetworkInsightsAnalysisRequest,
  DeleteNetworkInsightsAnalysisResult,
  DeleteNetworkInsightsPathRequest,
  DeleteNetworkInsightsPathResult,
  DescribeNetworkInsightsAnalysesRequest,
  DescribeNetworkInsightsAnalysesResult,
  DescribeNetworkInsightsPathsRequest,
  DescribeNetworkInsightsPathsResult,
  Explanation,
  NetworkInsightsAnalysis,
  NetworkInsightsPath,
  PathComponent,
  StartNetworkInsightsAnalysisRequest,
  StartNetworkInsightsAnalysisResult,
} from '@aws-sdk/client-ec2';
import { ApiError, err } from '../../core/errors.ts';
import type { Ctx } from '../../core/context.ts';
import type { Doc } from '../../store/store.ts';
import { arn, newId } from './ids.ts';
import { compileFilters, tagList } from './filters.ts';
import { paginate } from './paging.ts';
import { tagsFromSpecs } from './tags.ts';
import { KIND, type EniDoc, type InstanceDoc, type TagPair } from '../../core/documents/ec2.ts';
import { canReach, type EstateView } from '../../analysis/reach.ts';
import type { LiveNetwork } from '../../traffic/live-view.ts';
import { notFoundError } from '../../core/resource-types.ts';
import { protocolNumber, type RuleInput } from '../../dataplane/sg-policy.ts';
import type { GateResult, Verdict } from '../../dataplane/dataplane.ts';

const PATH = KIND.networkInsightsPath;
const ANALYSIS = KIND.networkInsightsAnalysis;

interface PathDoc extends Doc {
  source: string;
  destination?: string;
  sourceIp?: string;
  destinationIp?: string;
  protocol: string;
  destinationPort?: number;
  created: number;
  clientToken: string;
  filterAtSource?: unknown;
  filterAtDestination?: unknown;
  tags: TagPair[];
}
interface AnalysisDoc extends Doc {
  pathId: string;
  started: number;
  status: 'succeeded' | 'failed';
  statusMessage?: string;
  found: boolean;
  forward: PathComponent[];
  explanations: Explanation[];
  tags: TagPair[];
}

const pathNotFound = (id: string) => notFoundError('nip', id);
const analysisNotFound = (id: string) => notFoundError('nia', id);

function component(ctx: Ctx, id: string): { Id: string; Arn: string } {
  const type = id.startsWith('i-')
    ? 'instance'
    : id.startsWith('eni-')
      ? 'network-interface'
      : id.startsWith('sg-')
        ? 'security-group'
        : id.startsWith('vpc-')
          ? 'vpc'
          : 'subnet';
  return { Id: id, Arn: arn(ctx.partition, 'ec2', ctx.region, ctx.account, `${type}/${id}`) };
}

function checkEndpoint(ctx: Ctx, id: string | undefined, what: string): void {
  if (!id) return;
  if (id.startsWith('i-')) {
    if (!ctx.tx.get<InstanceDoc>(KIND.instance, ctx.scope, id))
      throw new ApiError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    return;
  }
  if (id.startsWith('eni-')) {
    if (!ctx.tx.get<EniDoc>(KIND.eni, ctx.scope, id))
      throw new ApiError('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`);
    return;
  }
  throw err.invalidValue(
    `${what} ${id} is not supported by Palisade: use an instance or a network interface (internet gateways are not modelled yet; use DestinationIp for internet addresses)`,
  );
}

function toPath(ctx: Ctx, p: PathDoc): NetworkInsightsPath {
  return {
    NetworkInsightsPathId: p.id,
    NetworkInsightsPathArn: arn(ctx.partition, 'ec2', ctx.region, ctx.account, `network-insights-path/${p.id}`),
    CreatedDate: new Date(p.created),
    Source: p.source,
    Destination: p.destination,
    SourceArn: component(ctx, p.source).Arn,
    DestinationArn: p.destination ? component(ctx, p.destination).Arn : undefined,
    SourceIp: p.sourceIp,
    DestinationIp: p.destinationIp,
    Protocol: p.protocol as never,
    DestinationPort: p.destinationPort,
    FilterAtSource: p.filterAtSource as never,
    FilterAtDestination: p.filterAtDestination as never,
    Tags: tagList(p.tags),
  };
}

function toAnalysis(ctx: Ctx, a: AnalysisDoc): NetworkInsightsAnalysis {
  return {
    NetworkInsightsAnalysisId: a.id,
    NetworkInsightsAnalysisArn: arn(ctx.partition, 'ec2', ctx.region, ctx.account, `network-insights-analysis/${a.id}`),
    NetworkInsightsPathId: a.pathId,
    StartDate: new Date(a.started),
    Status: a.status,
    StatusMessage: a.statusMessage,
    NetworkPathFound: a.found,
    ForwardPathComponents: a.forward,
    ReturnPathComponents: [],
    Explanations: a.explanations,
    AlternatePathHints: [],
    FilterInArns: [],
    FilterOutArns: [],
    Tags: tagList(a.tags),
  };
}

function sgRule(r: RuleInput) {
  const p = protocolNumber(r.protocol);
  return {
    Direction: r.egress ? 'egress' : 'ingress',
    SecurityGroupId: r.groupId,
    Protocol: r.protocol,
    ...(r.cidr4 || r.cidr6 ? { Cidr: r.cidr4 ?? r.cidr6 } : {}),
    ...(r.prefixListId ? { PrefixListId: r.prefixListId } : {}),
    ...(p === 6 || p === 17 ? { PortRange: { From: r.from, To: r.to } } : {}),
  };
}

function analyse(ctx: Ctx, view: EstateView, p: PathDoc): Pick<AnalysisDoc, 'found' | 'forward' | 'explanations'> {
  const from = p.source;
  const to = p.destination ?? (p.destinationIp ? `internet:${p.destinationIp}` : '');
  const answer = canReach(view, from, to, p.protocol, p.destinationPort);
  const v = answer.verdict;
  const eniOf = (spec: string) => (spec.startsWith('eni-') ? spec : spec.startsWith('i-') ? view.primaryOf(spec) : undefined);
  const srcEni = eniOf(from);
  const dstEni = p.destination ? eniOf(p.destination) : undefined;
  const eniDoc = (id?: string) => (id ? ctx.tx.get<EniDoc>(KIND.eni, ctx.scope, id) : undefined);
  if (v.decidedBy === 'route') {
    return {
      found: false,
      forward: [],
      explanations: [
        {
          ExplanationCode: 'CANNOT_ROUTE',
          Component: component(ctx, p.destination ?? from),
          ...(eniDoc(srcEni) ? { Vpc: component(ctx, eniDoc(srcEni)!.vpcId) } : {}),
        },
      ],
    };
  }
  const vv = v as Verdict;
  if (vv.verdict === 'ACCEPT') {
    const forward: PathComponent[] = [];
    let n = 1;
    const push = (c: PathComponent) => forward.push({ SequenceNumber: n++, ...c });
    push({ Component: component(ctx, from) });
    const add = (g: GateResult | undefined, eni?: string) => {
      if (!g || !eni) return;
      const doc = eniDoc(eni);
      const rule = g.rules[0];
      push({
        Component: component(ctx, eni),
        ...(doc ? { Vpc: component(ctx, doc.vpcId), Subnet: component(ctx, doc.subnetId) } : {}),
        ...(rule ? { SecurityGroupRule: sgRule(rule) as never } : {}),
      });
    };
    add(vv.egress, srcEni);
    add(vv.ingress, dstEni);
    if (p.destination) push({ Component: component(ctx, p.destination) });
    return { found: true, forward, explanations: [] };
  }
  const g = vv.decidedBy === 'egress' ? vv.egress! : vv.ingress!;
  const doc = eniDoc(g.interfaceId);
  return {
    found: false,
    forward: [],
    explanations: [
      {
        ExplanationCode: 'ENI_SG_RULES_MISMATCH',
        Direction: g.gate,
        NetworkInterface: component(ctx, g.interfaceId),
        Component: component(ctx, g.interfaceId),
        SecurityGroups: (doc?.groups ?? []).map((id) => component(ctx, id)),
        ...(doc ? { Vpc: component(ctx, doc.vpcId), Subnet: component(ctx, doc.subnetId) } : {}),
        ...(p.destinationPort !== undefined ? { Port: p.destinationPort } : {}),
        Protocols: [p.protocol],
      },
    ],
  };
}

/** The handlers; `network` is the live data plane the analyses read. */
export function networkInsightsHandlers(network: LiveNetwork) {
  return {
    CreateNetworkInsightsPath(ctx: Ctx, input: CreateNetworkInsightsPathRequest): CreateNetworkInsightsPathResult {
      const protocol = String(input.Protocol ?? '').toLowerCase();
      if (protocol !== 'tcp' && protocol !== 'udp')
        throw err.invalidValue(`Value (${input.Protocol}) for parameter protocol is invalid. Valid values: tcp, udp.`);
      if (!input.Destination && !input.DestinationIp) throw err.missing('Destination');
      checkEndpoint(ctx, input.Source, 'Source');
      checkEndpoint(ctx, input.Destination, 'Destination');
      const port =
        input.DestinationPort ??
        (input.FilterAtSource?.DestinationPortRange?.FromPort === input.FilterAtSource?.DestinationPortRange?.ToPort
          ? input.FilterAtSource?.DestinationPortRange?.FromPort
          : undefined);
      if (port !== undefined && (port < 0 || port > 65535))
        throw err.invalidValue(`Value (${port}) for parameter destinationPort is invalid.`);
      const prior = ctx.tx.all<PathDoc>(PATH, ctx.scope).find((x) => x.clientToken === input.ClientToken);
      if (prior) return { NetworkInsightsPath: toPath(ctx, prior) };
      const doc: PathDoc = {
        id: newId('nip'),
        source: input.Source!,
        destination: input.Destination,
        sourceIp: input.SourceIp,
        destinationIp: input.DestinationIp,
        protocol,
        destinationPort: port,
        created: ctx.clock.now(),
        clientToken: input.ClientToken ?? newId('token'),
        filterAtSource: input.FilterAtSource,
        filterAtDestination: input.FilterAtDestination,
        tags: tagsFromSpecs(input.TagSpecifications, PATH),
      };
      ctx.tx.put(PATH, ctx.scope, doc);
      return { NetworkInsightsPath: toPath(ctx, doc) };
    },

    DescribeNetworkInsightsPaths(ctx: Ctx, input: DescribeNetworkInsightsPathsRequest): DescribeNetworkInsightsPathsResult {
      let list = ctx.tx.all<PathDoc>(PATH, ctx.scope);
      if (input.NetworkInsightsPathIds?.length) {
        for (const id of input.NetworkInsightsPathIds) if (!list.some((p) => p.id === id)) throw pathNotFound(id);
        list = list.filter((p) => input.NetworkInsightsPathIds!.includes(p.id));
      }
      const match = compileFilters<PathDoc>(input.Filters, {
        destination: (p) => p.destination,
        'destination-port': (p) => p.destinationPort,
        protocol: (p) => p.protocol,
        source: (p) => p.source,
        'source-ip': (p) => p.sourceIp,
        'destination-ip': (p) => p.destinationIp,
      });
      const { page, nextToken } = paginate(list.filter(match), input.MaxResults, input.NextToken, { min: 1, max: 100 });
      return { NetworkInsightsPaths: page.map((p) => toPath(ctx, p)), NextToken: nextToken };
    },

    DeleteNetworkInsightsPath(ctx: Ctx, input: DeleteNetworkInsightsPathRequest): DeleteNetworkInsightsPathResult {
      const p = ctx.tx.get<PathDoc>(PATH, ctx.scope, input.NetworkInsightsPathId!);
      if (!p) throw pathNotFound(input.NetworkInsightsPathId!);
      if (ctx.tx.all<AnalysisDoc>(ANALYSIS, ctx.scope).some((a) => a.pathId === p.id)) {
        throw new ApiError('DependencyViolation', `The network insights path ${p.id} has analyses and cannot be deleted.`);
      }
      ctx.tx.delete(PATH, ctx.scope, p.id);
      return { NetworkInsightsPathId: p.id };
    },

    StartNetworkInsightsAnalysis(ctx: Ctx, input: StartNetworkInsightsAnalysisRequest): StartNetworkInsightsAnalysisResult {
      const p = ctx.tx.get<PathDoc>(PATH, ctx.scope, input.NetworkInsightsPathId!);
      if (!p) throw pathNotFound(input.NetworkInsightsPathId!);
      let result: Pick<AnalysisDoc, 'found' | 'forward' | 'explanations'>;
      let status: AnalysisDoc['status'] = 'succeeded';
      let statusMessage: string | undefined;
      try {
        result = analyse(ctx, network.view(), p);
      } catch (e) {
        status = 'failed';
        statusMessage = (e as Error).message;
        result = { found: false, forward: [], explanations: [] };
      }
      const doc: AnalysisDoc = {
        id: newId('nia'),
        pathId: p.id,
        started: ctx.clock.now(),
        status,
        statusMessage,
        ...result,
        tags: tagsFromSpecs(input.TagSpecifications, ANALYSIS),
      };
      ctx.tx.put(ANALYSIS, ctx.scope, doc);
      return {
        NetworkInsightsAnalysis: {
          ...toAnalysis(ctx, doc),
          Status: 'running',
          NetworkPathFound: undefined,
          ForwardPathComponents: undefined,
          Explanations: undefined,
        },
      };
    },

    DescribeNetworkInsightsAnalyses(ctx: Ctx, input: DescribeNetworkInsightsAnalysesRequest): DescribeNetworkInsightsAnalysesResult {
      let list = ctx.tx.all<AnalysisDoc>(ANALYSIS, ctx.scope);
      if (input.NetworkInsightsAnalysisIds?.length) {
        for (const id of input.NetworkInsightsAnalysisIds) if (!list.some((a) => a.id === id)) throw analysisNotFound(id);
        list = list.filter((a) => input.NetworkInsightsAnalysisIds!.includes(a.id));
      }
      if (input.NetworkInsightsPathId) list = list.filter((a) => a.pathId === input.NetworkInsightsPathId);
      if (input.AnalysisStartTime) list = list.filter((a) => a.started >= input.AnalysisStartTime!.getTime());
      if (input.AnalysisEndTime) list = list.filter((a) => a.started <= input.AnalysisEndTime!.getTime());
      const match = compileFilters<AnalysisDoc>(input.Filters, { 'path-found': (a) => a.found, status: (a) => a.status });
      const { page, nextToken } = paginate(list.filter(match), input.MaxResults, input.NextToken, { min: 1, max: 100 });
      return { NetworkInsightsAnalyses: page.map((a) => toAnalysis(ctx, a)), NextToken: nextToken };
    },

    DeleteNetworkInsightsAnalysis(ctx: Ctx, input: DeleteNetworkInsightsAnalysisRequest): DeleteNetworkInsightsAnalysisResult {
      const a = ctx.tx.get<AnalysisDoc>(ANALYSIS, ctx.scope, input.NetworkInsightsAnalysisId!);
      if (!a) throw analysisNotFound(input.NetworkInsightsAnalysisId!);
      ctx.tx.delete(ANALYSIS, ctx.scope, a.id);
      return { NetworkInsightsAnalysisId: a.id };
    },
  };
}
