// Reachability Analyzer's API (Network Insights paths and analyses), answered by the one flow
// judge over the live data plane's compiled configuration (routes, gateways, network ACLs,
// security groups): a static analysis of the configuration, as AWS's is — "It does not send
// packets or analyze the data plane" (VPC Reachability Analyzer guide, How it works). The
// analysis itself is network-insights-analysis.ts.
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
import { KIND, type TagPair } from '../../core/documents/ec2.ts';
import type { LiveNetwork } from '../../traffic/live-view.ts';
import { notFoundError, resourceTypeOfId } from '../../core/resource-types.ts';
import { parseAddress } from '../../dataplane/addresses.ts';
import { analysePath, analysisComponent } from './network-insights-analysis.ts';

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
  return analysisComponent(ctx, id) as { Id: string; Arn: string };
}

/** The kinds of resource a path can start or end at, as AWS allows them, with their NotFound errors. */
const ENDPOINT_KINDS: Record<string, string> = {
  i: KIND.instance,
  eni: KIND.eni,
  igw: KIND.internetGateway,
  pcx: KIND.peering,
};

function checkEndpoint(ctx: Ctx, id: string | undefined, what: string): void {
  if (!id) return;
  const prefix = resourceTypeOfId(id)?.prefix;
  const kind = prefix ? ENDPOINT_KINDS[prefix] : undefined;
  if (!prefix || !kind)
    throw err.invalidValue(
      `${what} ${id} is not supported by Palisade: use an instance, a network interface, an internet gateway or a VPC peering connection`,
    );
  if (!ctx.tx.get(kind, ctx.scope, id)) throw notFoundError(prefix, id);
}

function checkIp(value: string | undefined, name: string): void {
  if (value !== undefined && !parseAddress(value))
    throw err.invalidValue(`Value (${value}) for parameter ${name} is invalid. Expected a valid IP address.`);
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
      checkIp(input.SourceIp, 'sourceIp');
      checkIp(input.DestinationIp, 'destinationIp');
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
        result = analysePath(ctx, network.plane(), {
          source: p.source,
          destination: p.destination,
          sourceIp: p.sourceIp,
          destinationIp: p.destinationIp,
          protocol: p.protocol,
          port: p.destinationPort,
        });
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
