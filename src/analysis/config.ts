// The audit's configuration file:
//   {"suppress": [{"checkId": "sg-unused", "resourceId": "sg-0123…", "reason": "…"}],
//    "naming": {"environments": "prod|staging|dev", "environmentTag": "Environment", "groupName": "^[a-z][a-z0-9-]*$", "nameTag": "…", "requiredTags": {"Environment": "prod|dev|test"},
//               "appliesTo": ["security-group", "instance", "vpc"]},
//    "wideRangeThreshold": 1000, "quotaThreshold": 0.8, "disable": ["naming-convention"]}
// Every field is optional. A suppression matches on checkId and/or resourceId (the id, or the
// resource's name: GroupName, Name tag, RoleName; "*" matches any). Anything wrong is reported
// with the file and the field.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { checkById } from './findings/index.ts';
import { defaultConfig, type AuditConfig, type ResourceType } from './findings/types.ts';

const RESOURCE_TYPES: ResourceType[] = ['security-group', 'instance', 'network-interface', 'vpc', 'subnet', 'iam-role'];

export class ConfigError extends Error {}

export async function loadConfig(path: string): Promise<AuditConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${path}: cannot read the configuration (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${basename(path)}: not valid JSON (${(e as Error).message})`);
  }
  return parseConfig(raw, basename(path));
}

/** Validates a configuration object; errors name the file and the field. */
export function parseConfig(raw: unknown, file = 'config'): AuditConfig {
  const errors: string[] = [];
  const fail = (field: string, msg: string) => errors.push(`${file}: ${field}: ${msg}`);
  const config = defaultConfig();
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file}: the configuration must be a JSON object`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!['suppress', 'naming', 'wideRangeThreshold', 'quotaThreshold', 'disable', '$schema', 'comment'].includes(k))
      fail(k, 'unknown field (known: suppress, naming, wideRangeThreshold, quotaThreshold, disable)');
  }
  const checkRef = (field: string, v: unknown): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !v) {
      fail(field, 'must be a non-empty string');
      return undefined;
    }
    if (v !== '*' && !checkById.has(v)) fail(field, `unknown check '${v}' (known: ${[...checkById.keys()].join(', ')})`);
    return v;
  };
  if (o.suppress !== undefined) {
    if (!Array.isArray(o.suppress)) fail('suppress', 'must be an array of {"checkId", "resourceId"}');
    else
      o.suppress.forEach((s, i) => {
        const f = `suppress[${i}]`;
        if (!s || typeof s !== 'object' || Array.isArray(s)) return fail(f, 'must be an object with checkId and/or resourceId');
        const e = s as Record<string, unknown>;
        const checkId = checkRef(`${f}.checkId`, e.checkId);
        if (e.resourceId !== undefined && (typeof e.resourceId !== 'string' || !e.resourceId))
          fail(`${f}.resourceId`, 'must be a non-empty string');
        if (e.checkId === undefined && e.resourceId === undefined) fail(f, 'needs a checkId, a resourceId, or both');
        if (e.reason !== undefined && typeof e.reason !== 'string') fail(`${f}.reason`, 'must be a string');
        config.suppress.push({
          checkId,
          resourceId: typeof e.resourceId === 'string' ? e.resourceId : undefined,
          reason: e.reason as string | undefined,
        });
      });
  }
  if (o.disable !== undefined) {
    if (!Array.isArray(o.disable)) fail('disable', 'must be an array of check ids');
    else
      o.disable.forEach((d, i) => {
        const c = checkRef(`disable[${i}]`, d);
        if (c) config.disable.push(c);
      });
  }
  if (o.wideRangeThreshold !== undefined) {
    if (
      typeof o.wideRangeThreshold !== 'number' ||
      !Number.isInteger(o.wideRangeThreshold) ||
      o.wideRangeThreshold < 1 ||
      o.wideRangeThreshold > 65535
    ) {
      fail('wideRangeThreshold', 'must be an integer from 1 to 65535');
    } else config.wideRangeThreshold = o.wideRangeThreshold;
  }
  if (o.quotaThreshold !== undefined) {
    if (typeof o.quotaThreshold !== 'number' || !(o.quotaThreshold > 0 && o.quotaThreshold <= 1))
      fail('quotaThreshold', 'must be a number above 0 and at most 1 (a share of the 60-rule quota)');
    else config.quotaThreshold = o.quotaThreshold;
  }
  if (o.naming !== undefined) {
    if (!o.naming || typeof o.naming !== 'object' || Array.isArray(o.naming)) fail('naming', 'must be an object');
    else {
      const n = o.naming as Record<string, unknown>;
      const regex = (field: string, v: unknown, anchoredAlternatives = false): string | undefined => {
        if (v === undefined) return undefined;
        if (typeof v !== 'string') {
          fail(field, 'must be a string (a regular expression)');
          return undefined;
        }
        if (anchoredAlternatives && (v === '' || v === '*')) return v;
        try {
          new RegExp(anchoredAlternatives ? `^(?:${v})$` : v);
        } catch (e) {
          fail(field, `not a valid regular expression (${(e as Error).message})`);
          return undefined;
        }
        return v;
      };
      for (const k of Object.keys(n))
        if (!['environments', 'environmentTag', 'groupName', 'nameTag', 'requiredTags', 'appliesTo'].includes(k))
          fail(`naming.${k}`, 'unknown field (known: environments, environmentTag, groupName, nameTag, requiredTags, appliesTo)');
      const naming: NonNullable<AuditConfig['naming']> = {
        groupName: regex('naming.groupName', n.groupName),
        nameTag: regex('naming.nameTag', n.nameTag),
      };
      if (n.environments !== undefined) {
        if (n.environments === '') naming.environments = '';
        else {
          const envs = regex('naming.environments', n.environments, true);
          if (envs !== undefined) naming.environments = envs;
        }
      }
      if (n.environmentTag !== undefined) {
        if (typeof n.environmentTag !== 'string' || !n.environmentTag || n.environmentTag.length > 128)
          fail('naming.environmentTag', 'must be a tag key (1-128 characters)');
        else naming.environmentTag = n.environmentTag;
      }
      if (n.requiredTags !== undefined) {
        if (!n.requiredTags || typeof n.requiredTags !== 'object' || Array.isArray(n.requiredTags))
          fail('naming.requiredTags', 'must be an object of tag key → allowed values (a regular expression, e.g. "prod|dev|test")');
        else {
          naming.requiredTags = {};
          for (const [k, v] of Object.entries(n.requiredTags as Record<string, unknown>)) {
            const values =
              Array.isArray(v) && v.every((x) => typeof x === 'string')
                ? v.map((x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')
                : v;
            const r = regex(`naming.requiredTags.${k}`, values, true);
            if (r !== undefined) naming.requiredTags[k] = r;
          }
        }
      }
      if (n.appliesTo !== undefined) {
        if (!Array.isArray(n.appliesTo)) fail('naming.appliesTo', `must be an array of ${RESOURCE_TYPES.join(', ')}`);
        else {
          naming.appliesTo = [];
          n.appliesTo.forEach((t, i) => {
            if (!RESOURCE_TYPES.includes(t as ResourceType))
              fail(`naming.appliesTo[${i}]`, `unknown resource type ${JSON.stringify(t)} (known: ${RESOURCE_TYPES.join(', ')})`);
            else naming.appliesTo!.push(t as ResourceType);
          });
        }
      }
      config.naming = naming;
    }
  }
  if (errors.length) throw new ConfigError(errors.join('\n'));
  return config;
}
