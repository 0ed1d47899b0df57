// Input constraints from the IAM model (length, pattern, range), reported the way IAM does:
// "1 validation error detected: Value 'x' at 'roleName' failed to satisfy constraint: Member must
// satisfy regular expression pattern: [\w+=,.@-]+" — several problems of one call in one message.
import { validationError } from './errors.ts';

const NAME = /^[\w+=,.@-]+$/;
const PATH = /^(\/|\/[\u0021-\u007E]+\/)$/;
const PATH_PREFIX = /^\/[\u0021-\u007F]*$/;
const DESCRIPTION = /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/;

const shown = (v: unknown) => (v === undefined || v === null ? 'null' : `'${String(v)}'`);

/**
 * Collects the constraint violations of one request; `done()` throws them as one ValidationError.
 * `hideValues`: IAM leaves the offending value out of some messages — tags ("Value at 'tags.1.member.key'
 * failed to satisfy constraint: …"), tag keys, credential ids and statuses (recorded from IAM in
 * localstack's tests/aws/services/iam snapshots) — while names are echoed ("Value 'a b' at 'roleName'").
 */
export class Checks {
  private readonly problems: string[] = [];

  constructor(private readonly opts: { hideValues?: boolean } = {}) {}

  fail(value: unknown, field: string, constraint: string): this {
    const v = this.opts.hideValues ? '' : `${shown(value)} `;
    this.problems.push(`Value ${v}at '${field}' failed to satisfy constraint: Member must ${constraint}`);
    return this;
  }

  required(value: unknown, field: string): boolean {
    if (value === undefined || value === null) {
      this.problems.push(`Value null at '${field}' failed to satisfy constraint: Member must not be null`);
      return false;
    }
    return true;
  }

  /**
   * A list of strings whose members each have constraints: one message for the whole list naming
   * every member constraint, as IAM words it ("Value at 'tagKeys' failed to satisfy constraint:
   * Member must satisfy constraint: [Member must have length less than or equal to 128, …]").
   */
  members(values: readonly unknown[], field: string, min: number, max: number, re: RegExp, source: string): this {
    const ok = (x: unknown) => typeof x === 'string' && x.length >= min && x.length <= max && re.test(x);
    if (!values.every(ok)) {
      const v = this.opts.hideValues ? '' : `'[${values.join(', ')}]' `;
      this.problems.push(
        `Value ${v}at '${field}' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to ${max}, Member must have length greater than or equal to ${min}, Member must satisfy regular expression pattern: ${source}, Member must not be null]`,
      );
    }
    return this;
  }

  length(value: string | undefined, field: string, min: number, max: number): this {
    if (value === undefined) return this;
    if (value.length < min) this.fail(value, field, `have length greater than or equal to ${min}`);
    if (value.length > max) this.fail(value, field, `have length less than or equal to ${max}`);
    return this;
  }

  pattern(value: string | undefined, field: string, re: RegExp, source: string): this {
    if (value !== undefined && value.length > 0 && !re.test(value))
      this.fail(value, field, `satisfy regular expression pattern: ${source}`);
    return this;
  }

  range(value: number | undefined, field: string, min: number, max: number): this {
    if (value === undefined) return this;
    if (value < min) this.fail(value, field, `have value greater than or equal to ${min}`);
    else if (value > max) this.fail(value, field, `have value less than or equal to ${max}`);
    return this;
  }

  /** An IAM entity name: user, role, policy, instance profile, inline policy. */
  name(value: string | undefined, field: string, max: number): this {
    if (!this.required(value, field)) return this;
    return this.length(value, field, 1, max).pattern(value, field, NAME, '[\\w+=,.@-]+');
  }

  description(value: string | undefined, field: string, max = 1000): this {
    return this.length(value, field, 0, max).pattern(value, field, DESCRIPTION, '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*');
  }

  done(): void {
    const n = this.problems.length;
    if (n) throw validationError(`${n} validation error${n > 1 ? 's' : ''} detected: ${this.problems.join('; ')}`);
  }
}

/** Validates a single entity name and returns it. */
export function checkName(value: string | undefined, field: string, max: number): string {
  new Checks().name(value, field, max).done();
  return value!;
}

/** A resource path: `/` or `/…/` (printable ASCII), at most 512 characters; default `/`. */
export function checkPath(value: string | undefined, field = 'path'): string {
  if (value === undefined) return '/';
  new Checks().length(value, field, 1, 512).done();
  if (!PATH.test(value)) {
    throw validationError(
      `The specified value for ${field} is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.`,
    );
  }
  return value;
}

/** A list filter's path prefix; default `/` (everything). */
export function checkPathPrefix(value: string | undefined, field = 'pathPrefix'): string {
  if (value === undefined) return '/';
  new Checks().length(value, field, 1, 512).done();
  if (!PATH_PREFIX.test(value)) {
    throw validationError(
      `The specified value for ${field} is invalid. It must begin with the / character and contain only alphanumeric characters and/or / characters.`,
    );
  }
  return value;
}
