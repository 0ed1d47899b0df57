// Exposure in the rules themselves: ingress that admits the whole internet (0.0.0.0/0, ::/0, or
// a prefix list holding one of them) to remote administration, to sensitive services, or to
// everything; and port ranges wider than anyone needs.
import type { CheckDef, Finding } from './types.ts';
import { listText, portsText, revokeCommand, ruleText, uniq, type AuditRule, type Estate } from './estate.ts';
import { ruleInterval } from '../../dataplane/sg-policy.ts';

interface SensitivePort {
  port: number;
  proto: 'tcp' | 'udp';
  service: string;
}

/** Ports whose services must never face the internet (Security Hub EC2.19's list and more). */
export const SENSITIVE_PORTS: SensitivePort[] = [
  ...(
    [
      [20, 'FTP data'],
      [21, 'FTP'],
      [23, 'Telnet'],
      [25, 'SMTP'],
      [110, 'POP3'],
      [135, 'MS RPC'],
      [139, 'NetBIOS/SMB'],
      [143, 'IMAP'],
      [389, 'LDAP'],
      [445, 'SMB'],
      [636, 'LDAPS'],
      [1433, 'SQL Server'],
      [1434, 'SQL Server browser'],
      [1521, 'Oracle'],
      [2049, 'NFS'],
      [2375, 'Docker API'],
      [2376, 'Docker API (TLS)'],
      [2379, 'etcd'],
      [3000, 'dev servers/Grafana'],
      [3306, 'MySQL'],
      [4333, 'mSQL'],
      [5000, 'dev servers/registries'],
      [5432, 'PostgreSQL'],
      [5500, 'VNC'],
      [5601, 'Kibana'],
      [5900, 'VNC'],
      [5984, 'CouchDB'],
      [6379, 'Redis'],
      [8080, 'HTTP proxy/admin'],
      [8088, 'Hadoop YARN'],
      [8888, 'Jupyter'],
      [9042, 'Cassandra'],
      [9092, 'Kafka'],
      [9200, 'Elasticsearch'],
      [9300, 'Elasticsearch transport'],
      [10250, 'kubelet'],
      [11211, 'Memcached'],
      [27017, 'MongoDB'],
    ] as const
  ).map(([port, service]) => ({ port, proto: 'tcp' as const, service })),
  { port: 11211, proto: 'udp', service: 'Memcached' },
];

/** Security Hub EC2.19's high-risk ports. */
const EC2_19 = new Set([
  20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300,
]);

export const ADMIN_PORTS = [
  { port: 22, service: 'SSH' },
  { port: 3389, service: 'RDP' },
];

/** Ingress rules of the group that admit the whole internet, with the family they open. */
function worldIngress(e: Estate, groupId: string): { rule: AuditRule; family: 4 | 6 }[] {
  const out: { rule: AuditRule; family: 4 | 6 }[] = [];
  for (const r of e.rules.get(groupId) ?? []) {
    if (r.input.egress) continue;
    const family = e.worldFamily(r);
    if (family) out.push({ rule: r, family });
  }
  return out;
}

/** All protocols, or every tcp or udp port: reported once by sg-all-open-to-world, not per port. */
function opensEverything(r: AuditRule): boolean {
  const p = r.input.protocol;
  if (p === '-1') return true;
  if (p !== 'tcp' && p !== 'udp') return false;
  const [a, b] = ruleInterval(r.input);
  return a === 0 && b === 65535;
}

function covers(r: AuditRule, proto: 'tcp' | 'udp', port: number): boolean {
  if (r.input.protocol !== proto) return false;
  const [a, b] = ruleInterval(r.input);
  return port >= a && port <= b;
}

const familyText = (fs: (4 | 6)[]) =>
  uniq(fs)
    .sort()
    .map((f) => (f === 4 ? '0.0.0.0/0' : '::/0'))
    .join(' and ');

function adminCheck(id: string, port: number, service: string, control: string): CheckDef {
  return {
    id,
    severity: 'high',
    title: `${service} (tcp ${port}) open to the internet`,
    help:
      `A security group admits ${service} on tcp ${port} from 0.0.0.0/0 or ::/0, so anyone on the internet can try to log in to the ` +
      `instances holding it. Allow ${service} only from known addresses (a VPN, a bastion's group), or use Session Manager instead. ` +
      `Security Hub ${control} and EC2.19; CIS AWS Foundations 5.2 (IPv4) and 5.3 (IPv6), Security Hub EC2.53/EC2.54.`,
    controls: [control, 'EC2.19', 'EC2.53', 'EC2.54', 'CIS 5.2', 'CIS 5.3'],
    run(e) {
      const out: Finding[] = [];
      for (const g of e.snapshot.securityGroups) {
        const hits = worldIngress(e, g.GroupId!).filter(({ rule }) => !opensEverything(rule) && covers(rule, 'tcp', port));
        if (!hits.length) continue;
        const fams = hits.map((h) => h.family);
        out.push({
          checkId: id,
          severity: 'high',
          resourceId: g.GroupId!,
          resourceType: 'security-group',
          resourceName: g.GroupName,
          ruleIds: hits.map((h) => h.rule.input.id),
          title: `${service} open to the internet in ${e.label(g.GroupId!)}`,
          detail: `${e.label(g.GroupId!)} admits ${service} (tcp ${port}) from ${familyText(fams)}: ${hits.map((h) => ruleText(h.rule.input)).join('; ')}.`,
          fix: `Restrict the source to known addresses, or remove the rule: ${revokeCommand(hits.map((h) => h.rule))}`,
          controls: [
            control,
            'EC2.19',
            ...(fams.includes(4) ? ['EC2.53', 'CIS 5.2'] : []),
            ...(fams.includes(6) ? ['EC2.54', 'CIS 5.3'] : []),
          ],
        });
      }
      return out;
    },
  };
}

const sshOpen = adminCheck('sg-ssh-open-to-world', 22, 'SSH', 'EC2.13');
const rdpOpen = adminCheck('sg-rdp-open-to-world', 3389, 'RDP', 'EC2.14');

const sensitiveOpen: CheckDef = {
  id: 'sg-sensitive-port-open-to-world',
  severity: 'high',
  title: 'Database, cache, search, container or file-sharing port open to the internet',
  help:
    'A security group admits a service that should never face the internet — databases (1433, 1521, 3306, 5432, 27017), caches ' +
    '(6379, 11211), search (9200, 9300, 5601), the Docker API (2375/2376), VNC (5900), FTP (20/21), Telnet (23), SMB (139/445), ' +
    'MS RPC (135), LDAP (389) and others — from 0.0.0.0/0 or ::/0. Admit it only from the groups or addresses that need it. ' +
    'Security Hub EC2.19 (high-risk ports) and EC2.18 (unrestricted ports other than 80/443).',
  controls: ['EC2.19', 'EC2.18'],
  run(e) {
    const out: Finding[] = [];
    for (const g of e.snapshot.securityGroups) {
      const rules: AuditRule[] = [];
      const services: string[] = [];
      let highRisk = false;
      for (const { rule } of worldIngress(e, g.GroupId!)) {
        if (opensEverything(rule)) continue;
        const hit = SENSITIVE_PORTS.filter((s) => covers(rule, s.proto, s.port));
        if (!hit.length) continue;
        rules.push(rule);
        for (const s of hit) {
          services.push(`${s.proto} ${s.port} (${s.service})`);
          if (EC2_19.has(s.port)) highRisk = true;
        }
      }
      if (!rules.length) continue;
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: g.GroupId!,
        resourceType: 'security-group',
        resourceName: g.GroupName,
        ruleIds: rules.map((r) => r.input.id),
        title: `Sensitive ports open to the internet in ${e.label(g.GroupId!)}`,
        detail: `${e.label(g.GroupId!)} admits ${listText(uniq(services))} from the internet: ${rules.map((r) => ruleText(r.input)).join('; ')}.`,
        fix: `Admit these ports only from the security groups or addresses that use them (a --source-group rule), then ${revokeCommand(rules)}`,
        controls: highRisk ? ['EC2.19', 'EC2.18'] : ['EC2.18'],
      });
    }
    return out;
  },
};

const allOpen: CheckDef = {
  id: 'sg-all-open-to-world',
  severity: 'critical',
  title: 'All protocols or all ports open to the internet',
  help:
    'An ingress rule admits all traffic (protocol -1) or every tcp/udp port from 0.0.0.0/0 or ::/0: every service on the ' +
    'instances, SSH and RDP included, faces the internet. Replace it with rules for the ports the application serves. ' +
    'Security Hub EC2.18 and EC2.19; CIS AWS Foundations 5.2 (IPv4) and 5.3 (IPv6).',
  controls: ['EC2.18', 'EC2.19', 'EC2.53', 'EC2.54', 'CIS 5.2', 'CIS 5.3'],
  run(e) {
    const out: Finding[] = [];
    for (const g of e.snapshot.securityGroups) {
      const hits = worldIngress(e, g.GroupId!).filter(({ rule }) => opensEverything(rule));
      if (!hits.length) continue;
      const fams = hits.map((h) => h.family);
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: g.GroupId!,
        resourceType: 'security-group',
        resourceName: g.GroupName,
        ruleIds: hits.map((h) => h.rule.input.id),
        title: `Everything open to the internet in ${e.label(g.GroupId!)}`,
        detail:
          `${e.label(g.GroupId!)} admits ${uniq(hits.map((h) => portsText(h.rule.input))).join(' and ')} from ${familyText(fams)}: ` +
          `${hits.map((h) => ruleText(h.rule.input)).join('; ')}.`,
        fix: `Replace with rules for the ports the application serves, then ${revokeCommand(hits.map((h) => h.rule))}`,
        controls: [
          'EC2.18',
          'EC2.19',
          ...(fams.includes(4) ? ['EC2.53', 'CIS 5.2'] : []),
          ...(fams.includes(6) ? ['EC2.54', 'CIS 5.3'] : []),
        ],
      });
    }
    return out;
  },
};

const wideRange: CheckDef = {
  id: 'sg-wide-port-range',
  severity: 'medium',
  title: 'Overly wide port range',
  help:
    'An ingress rule opens more tcp or udp ports than the configured threshold (wideRangeThreshold, default 1000) — far more ' +
    'than any service listens on, so whatever else runs on the instances is exposed too. Narrow it to the ports in use.',
  controls: [],
  run(e, config) {
    const out: Finding[] = [];
    for (const g of e.snapshot.securityGroups) {
      const rules = (e.rules.get(g.GroupId!) ?? []).filter((r) => {
        if (r.input.egress || (r.input.protocol !== 'tcp' && r.input.protocol !== 'udp')) return false;
        if (opensEverything(r) && e.worldFamily(r)) return false; // sg-all-open-to-world
        const [a, b] = ruleInterval(r.input);
        return b - a + 1 > config.wideRangeThreshold;
      });
      if (!rules.length) continue;
      out.push({
        checkId: this.id,
        severity: this.severity,
        resourceId: g.GroupId!,
        resourceType: 'security-group',
        resourceName: g.GroupName,
        ruleIds: rules.map((r) => r.input.id),
        title: `Port ranges wider than ${config.wideRangeThreshold} ports in ${e.label(g.GroupId!)}`,
        detail: `${e.label(g.GroupId!)}: ${rules
          .map((r) => {
            const [a, b] = ruleInterval(r.input);
            return `${ruleText(r.input)} opens ${b - a + 1} ports`;
          })
          .join('; ')}.`,
        fix: `Replace each with rules for the ports in use, then ${revokeCommand(rules)}`,
        controls: [],
      });
    }
    return out;
  },
};

export const exposureChecks: CheckDef[] = [sshOpen, rdpOpen, sensitiveOpen, allOpen, wideRange];
