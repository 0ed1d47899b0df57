// The instance metadata service. Every instance gets its own HTTP listener on 127.0.0.1 (an
// ephemeral port), so a process acting as the instance reaches its own metadata with nothing
// but AWS_EC2_METADATA_SERVICE_ENDPOINT — the SDKs send no header that could tell instances
// apart. IMDSv2 tokens are bound to the instance; role credentials are real STS sessions of the
// instance profile's role, named after the instance, rotated well before they expire.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { crypto } from '../core/lazy.ts';
import { BoundedTable } from '../core/bounded-table.ts';
import type { Store } from '../store/store.ts';
import type { Clock } from '../core/clock.ts';
import type { ServerConfig, Ctx } from '../core/context.ts';
import { internalCtx } from '../core/context.ts';
import { rootPrincipal } from '../auth/principals.ts';
import { KIND, type EniDoc, type InstanceDoc, type SecurityGroupDoc, type SubnetDoc } from '../core/documents/ec2.ts';
import { IAM_KIND, type InstanceProfileDoc, type RoleDoc } from '../core/documents/iam.ts';
import type { startRoleSession, trustAllows } from '../services/sts/index.ts';
import { privateDns, publicDns, zonesOf } from '../core/regions.ts';
import type { Logger } from '../core/log.ts';

const CREDENTIAL_LIFETIME_S = 6 * 3600;
/** New credentials are handed out this long before the current ones expire (AWS: ≥ 5 min). */
const ROTATE_BEFORE_MS = 5 * 3600 * 1000;

interface Listener {
  server: Server;
  url: string;
  scope: string;
  instanceId: string;
}
/** STS's role sessions, which the instance's credentials are (given by startServer). */
interface RoleSessions {
  trustAllows: typeof trustAllows;
  startRoleSession: typeof startRoleSession;
}

interface Token {
  instanceId: string;
  expires: number;
}
/** Most IMDSv2 tokens kept at once (all instances): past it the oldest are evicted (their holders get 401 and ask again, as SDKs do). */
const MAX_TOKENS = 50_000;
interface CachedCreds {
  roleArn: string;
  accessKeyId: string;
  secret: string;
  token: string;
  expiration: number;
  lastUpdated: number;
}

const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export class Imds {
  private readonly listeners = new Map<string, Listener>();
  /** IMDSv2 tokens: expire at their TTL on the server clock; at most MAX_TOKENS, oldest evicted first. */
  private readonly tokens = new BoundedTable<string, Token>(MAX_TOKENS, (t) => t.expires + 1);
  private readonly creds = new Map<string, CachedCreds>();

  private readonly store: Store;
  private readonly clock: Clock;
  private readonly config: ServerConfig;
  private readonly log: Logger;
  private readonly sessions: RoleSessions;

  constructor(parts: { store: Store; clock: Clock; config: ServerConfig; log: Logger; sessions: RoleSessions }) {
    ({ store: this.store, clock: this.clock, config: this.config, log: this.log, sessions: this.sessions } = parts);
    const store = this.store;
    // Stop/terminate closes the instance's metadata endpoint; a new profile means new credentials.
    store.onChange((events) => {
      for (const e of events) {
        if (e.kind !== KIND.instance) continue;
        const after = e.after as InstanceDoc | undefined;
        const before = e.before as InstanceDoc | undefined;
        if (!after || after.state !== 'running') this.closeInstance(e.id);
        if (before?.profile?.associationId !== after?.profile?.associationId || after?.profile?.state !== before?.profile?.state) {
          for (const k of [...this.creds.keys()]) if (k.startsWith(`${e.id}/`)) this.creds.delete(k);
        }
      }
    });
  }

  private find(instanceId: string): { scope: string; inst: InstanceDoc } | undefined {
    for (const scope of this.store.scopes(KIND.instance)) {
      const inst = this.store.table(KIND.instance, scope).get(instanceId) as InstanceDoc | undefined;
      if (inst) return { scope, inst };
    }
    return undefined;
  }

  /** The metadata endpoint of a running instance, started on first use. */
  async endpoint(instanceId: string): Promise<{ url: string; account: string; region: string } | { error: string; status: number }> {
    const found = this.find(instanceId);
    if (!found) return { error: `The instance ID '${instanceId}' does not exist`, status: 404 };
    if (found.inst.state !== 'running') return { error: `The instance '${instanceId}' is not running (${found.inst.state})`, status: 409 };
    const [account, region] = found.scope.split('/') as [string, string];
    let l = this.listeners.get(instanceId);
    if (!l) {
      const server = createServer((req, res) => this.serve(instanceId, req, res));
      await new Promise<void>((r, j) => {
        server.once('error', j);
        server.listen(0, '127.0.0.1', () => r());
      });
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      l = { server, url: `http://127.0.0.1:${port}`, scope: found.scope, instanceId };
      this.listeners.set(instanceId, l);
    }
    return { url: l.url, account, region };
  }

  private closeInstance(instanceId: string): void {
    const l = this.listeners.get(instanceId);
    if (l) {
      this.listeners.delete(instanceId);
      l.server.closeAllConnections?.();
      l.server.close();
    }
    this.tokens.deleteWhere((v) => v.instanceId === instanceId);
    for (const k of [...this.creds.keys()]) if (k.startsWith(`${instanceId}/`)) this.creds.delete(k);
  }

  async close(): Promise<void> {
    for (const id of [...this.listeners.keys()]) this.closeInstance(id);
  }

  /**
   * Answers one request as the instance: the kernel data plane's listeners inside each instance's
   * namespace (src/kernel/imds-namespaces.ts) know the instance by the namespace the request came
   * from, and hand it here.
   */
  answer(instanceId: string, req: IncomingMessage, res: ServerResponse): void {
    this.serve(instanceId, req, res);
  }

  /** The metadata options of a known instance and its account/region scope (undefined: no such instance). */
  optionsOf(instanceId: string): { scope: string; state: InstanceDoc['state']; metadata: InstanceDoc['metadata'] } | undefined {
    const found = this.find(instanceId);
    return found && { scope: found.scope, state: found.inst.state, metadata: found.inst.metadata };
  }

  private serve(instanceId: string, req: IncomingMessage, res: ServerResponse): void {
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), server: 'EC2ws', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    req.resume();
    const found = this.find(instanceId);
    if (!found || found.inst.state !== 'running') return send(404, 'Not Found');
    const inst = found.inst;
    const path = (req.url ?? '/').split('?')[0]!;
    if (inst.metadata.httpEndpoint === 'disabled') return send(403, 'Forbidden');
    const now = this.clock.now();

    if (req.method === 'PUT') {
      if (path !== '/latest/api/token')
        return send(path.endsWith('/api/token') ? 403 : 405, path.endsWith('/api/token') ? 'Forbidden' : 'Method Not Allowed');
      if (req.headers['x-forwarded-for']) return send(403, 'Forbidden');
      const raw = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
      const ttl = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
      if (!(ttl >= 1 && ttl <= 21600)) return send(400, 'Bad Request');
      const token = crypto().randomBytes(40).toString('base64url');
      this.tokens.set(token, { instanceId, expires: now + ttl * 1000 }, now);
      return send(200, token, { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'Method Not Allowed', { allow: 'OPTIONS, PUT, GET, HEAD' });

    const presented = req.headers['x-aws-ec2-metadata-token'];
    let delivery = '1.0';
    if (presented !== undefined) {
      const t = this.tokens.get(String(presented), now);
      if (!t || t.instanceId !== instanceId) return send(401, 'Unauthorized');
      delivery = '2.0';
    } else if (inst.metadata.httpTokens === 'required') {
      return send(401, 'Unauthorized');
    }
    const answer = this.resolve(found.scope, inst, path, delivery);
    if (answer === undefined) return send(404, notFoundPage());
    const isJson = answer.startsWith('{');
    return send(200, answer, isJson && path.includes('/dynamic/') ? { 'content-type': 'application/json' } : {});
  }

  /** The metadata tree; directories list their entries one per line, sub-directories end in '/'. */
  private resolve(scope: string, inst: InstanceDoc, rawPath: string, delivery: string): string | undefined {
    const [account, region] = scope.split('/') as [string, string];
    const enis = this.store.table(KIND.eni, scope) as Map<string, EniDoc>;
    const attached = [...enis.values()]
      .filter((e) => e.attachment?.instanceId === inst.id)
      .sort((a, b) => a.attachment!.deviceIndex - b.attachment!.deviceIndex);
    const primary = attached[0];
    const groupName = (id: string) => (this.store.table(KIND.sg, scope).get(id) as SecurityGroupDoc | undefined)?.name ?? id;
    const zone = zonesOf(region).find((z) => z.name === inst.az);

    const macs: Record<string, unknown> = {};
    for (const e of attached) {
      const sn = this.store.table(KIND.subnet, scope).get(e.subnetId) as SubnetDoc | undefined;
      macs[`${e.mac}/`] = {
        'device-number': String(e.attachment!.deviceIndex),
        'interface-id': e.id,
        mac: e.mac,
        'owner-id': account,
        'local-hostname': privateDns(region, e.privateIps[0]!),
        'local-ipv4s': e.privateIps.join('\n'),
        'security-group-ids': e.groups.join('\n'),
        'security-groups': e.groups.map(groupName).join('\n'),
        'subnet-id': e.subnetId,
        'subnet-ipv4-cidr-block': sn?.cidr,
        'vpc-id': e.vpcId,
        'vpc-ipv4-cidr-block': (this.store.table(KIND.vpc, scope).get(e.vpcId) as { cidr?: string } | undefined)?.cidr,
        ...(e.ipv6.length ? { ipv6s: e.ipv6.join('\n') } : {}),
        ...(e.publicIp ? { 'public-ipv4s': e.publicIp, 'public-hostname': publicDns(region, e.publicIp) } : {}),
      };
    }
    const iam = this.iamTree(scope, inst, delivery);
    const tags =
      inst.metadata.instanceMetadataTags === 'enabled'
        ? { 'tags/': { 'instance/': Object.fromEntries(inst.tags.map((t) => [t.Key, t.Value])) } }
        : {};
    const metaData: Record<string, unknown> = {
      'ami-id': inst.imageId,
      'ami-launch-index': String(inst.amiLaunchIndex),
      'ami-manifest-path': '(unknown)',
      hostname: primary ? privateDns(region, primary.privateIps[0]!) : undefined,
      'instance-action': 'none',
      'instance-id': inst.id,
      'instance-life-cycle': 'on-demand',
      'instance-type': inst.instanceType,
      'local-hostname': primary ? privateDns(region, primary.privateIps[0]!) : undefined,
      'local-ipv4': primary?.privateIps[0],
      mac: primary?.mac,
      'network/': { 'interfaces/': { 'macs/': macs } },
      'placement/': { 'availability-zone': inst.az, 'availability-zone-id': zone?.id, region },
      'public-hostname': primary?.publicIp ? publicDns(region, primary.publicIp) : undefined,
      'public-ipv4': primary?.publicIp,
      'reservation-id': inst.reservationId,
      'security-groups': primary?.groups.map(groupName).join('\n'),
      ...(primary?.ipv6.length ? { ipv6: primary.ipv6[0] } : {}),
      ...(iam ? { 'iam/': iam } : {}),
      ...(inst.keyName && inst.publicKey ? { 'public-keys/': publicKeys(inst.keyName, inst.publicKey) } : {}),
      ...tags,
      'services/': { domain: 'amazonaws.com', partition: 'aws' },
    };
    const identity = JSON.stringify(
      {
        accountId: account,
        architecture: 'x86_64',
        availabilityZone: inst.az,
        billingProducts: null,
        devpayProductCodes: null,
        marketplaceProductCodes: null,
        imageId: inst.imageId,
        instanceId: inst.id,
        instanceType: inst.instanceType,
        kernelId: null,
        pendingTime: isoSeconds(Date.parse(inst.launchTime)),
        privateIp: primary?.privateIps[0] ?? null,
        ramdiskId: null,
        region,
        version: '2017-09-30',
      },
      null,
      2,
    );
    const root: Record<string, unknown> = {
      'meta-data/': metaData,
      'dynamic/': {
        'instance-identity/': {
          document: identity,
          signature: crypto().randomBytes(64).toString('base64'),
          pkcs7: crypto().randomBytes(96).toString('base64'),
        },
      },
      ...(inst.userData ? { 'user-data': Buffer.from(inst.userData, 'base64').toString('utf8') } : {}),
    };
    if (rawPath === '/' || rawPath === '') return 'latest';
    const parts = rawPath.replace(/^\//, '').split('/');
    if (parts[0] !== 'latest') return undefined;
    let node: unknown = root;
    const rest = parts.slice(1);
    for (let i = 0; i < rest.length; i++) {
      const p = rest[i]!;
      if (p === '' && i === rest.length - 1) break;
      if (!node || typeof node !== 'object') return undefined;
      const obj = node as Record<string, unknown>;
      node = obj[`${p}/`] ?? obj[p];
    }
    if (node === undefined || node === null) return undefined;
    if (typeof node === 'string') return node;
    return Object.entries(node as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k]) => k)
      .join('\n');
  }

  private iamTree(scope: string, inst: InstanceDoc, delivery: string): Record<string, unknown> | undefined {
    if (!inst.profile || inst.profile.state !== 'associated') return undefined;
    const [account, region] = scope.split('/') as [string, string];
    const now = this.clock.now();
    const profile = (this.store.table(IAM_KIND.instanceProfile, account) as Map<string, InstanceProfileDoc>).get(
      inst.profile.name.toLowerCase(),
    );
    if (!profile || profile.arn !== inst.profile.arn) {
      return {
        info: JSON.stringify(
          {
            Code: 'InstanceProfileNotFound',
            Message: 'Instance Profile with Arn ' + inst.profile.arn + ' not found',
            LastUpdated: isoSeconds(now),
          },
          null,
          2,
        ),
      };
    }
    const info = JSON.stringify(
      { Code: 'Success', LastUpdated: isoSeconds(now), InstanceProfileArn: profile.arn, InstanceProfileId: profile.profileId },
      null,
      2,
    );
    const roleName = profile.roles[0];
    if (!roleName) return { info };
    const role = (this.store.table(IAM_KIND.role, account) as Map<string, RoleDoc>).get(roleName.toLowerCase());
    if (!role) return { info };
    return { info, 'security-credentials/': { [role.name]: this.credentialsDocument(account, region, inst, role, delivery) } };
  }

  private credentialsDocument(account: string, region: string, inst: InstanceDoc, role: RoleDoc, delivery: string): string {
    const now = this.clock.now();
    const key = `${inst.id}/${role.arn}/${delivery}`;
    let c = this.creds.get(key);
    if (!c || c.roleArn !== role.arn || now >= c.expiration - ROTATE_BEFORE_MS) {
      const ctx: Ctx = internalCtx(
        { store: this.store, clock: this.clock, config: this.config, principalFor: (a) => rootPrincipal(a, '') },
        account,
        region,
        'AssumeRole',
      );
      const allowed = this.sessions.trustAllows(role, {
        action: 'sts:AssumeRole',
        resource: role.arn,
        principal: { service: 'ec2.amazonaws.com' },
        context: {
          'aws:SourceAccount': account,
          'aws:SourceArn': `arn:${ctx.partition}:ec2:${region}:${account}:instance/${inst.id}`,
          'aws:CurrentTime': new Date(now).toISOString(),
        },
      });
      if (!allowed) {
        return JSON.stringify(
          {
            Code: 'AssumeRoleUnauthorizedAccess',
            Message: `EC2 cannot assume the role ${role.name}.  Please see documentation at https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2.html#roles-usingrole-ec2instance-roles.`,
            LastUpdated: isoSeconds(now),
          },
          null,
          2,
        );
      }
      const session = this.sessions.startRoleSession(ctx, role, inst.id, CREDENTIAL_LIFETIME_S, {
        ec2RoleDelivery: delivery,
        sourceInstanceArn: `arn:${ctx.partition}:ec2:${region}:${account}:instance/${inst.id}`,
      });
      ctx.tx.commit();
      // On disk before the credentials are handed out (they must still work after a restart).
      this.store.flush();
      c = {
        roleArn: role.arn,
        accessKeyId: session.id,
        secret: session.secret,
        token: session.token,
        expiration: session.expiration,
        lastUpdated: now,
      };
      this.creds.set(key, c);
      this.log.debug(`imds: new credentials for ${inst.id} (${role.name}, IMDSv${delivery.charAt(0)})`);
    }
    return JSON.stringify(
      {
        Code: 'Success',
        LastUpdated: isoSeconds(c.lastUpdated),
        Type: 'AWS-HMAC',
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secret,
        Token: c.token,
        Expiration: isoSeconds(c.expiration),
      },
      null,
      2,
    );
  }
}

function notFoundPage(): string {
  return '<?xml version="1.0" encoding="iso-8859-1"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n <head>\n  <title>404 - Not Found</title>\n </head>\n <body>\n  <h1>404 - Not Found</h1>\n </body>\n</html>\n';
}

/** `public-keys/` lists `0=KEYNAME`; `public-keys/0/openssh-key` is the key (the `0/` entry resolves but is not listed). */
function publicKeys(name: string, key: string): Record<string, unknown> {
  const tree: Record<string, unknown> = { [`0=${name}`]: '' };
  Object.defineProperty(tree, '0/', { value: { 'openssh-key': key }, enumerable: false });
  return tree;
}
