/**
 * Inline route constraints of Azure Functions route templates (`{id:int}`, `{code:length(2,3)}`,
 * `{slug:regex(^[a-z-]+$)}`), which the Functions host takes from ASP.NET Core routing: a value that
 * fails a constraint makes the route not match (404 unless another route matches).
 *
 * Checked on the decoded value, invariant culture, as ASP.NET Core does:
 *   int, long            a whole number in the 32- / 64-bit signed range ("-12"; no spaces, no "1e3")
 *   bool                 true or false, any case
 *   guid                 32 hex digits, bare or as 8-4-4-4-12, optionally in {…} or (…)
 *   alpha                letters a–z, any case
 *   length(n)            exactly n characters; length(min,max) between them
 *   minlength(n), maxlength(n)
 *   min(n), max(n), range(min,max)   a long within the bounds
 *   regex(expression)    the expression matches somewhere in the value, ignoring case (anchor it
 *                        with ^ and $); braces in a template are written doubled: \d{{3}}
 *   required             a non-empty value
 * Other constraints (datetime, decimal, double, float, file, nonfile) are not implemented here: a
 * template that uses one is refused when the local host starts, rather than matched loosely.
 */

export type ConstraintCheck = (value: string) => boolean;

const INT32 = { min: -(2n ** 31n), max: 2n ** 31n - 1n };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

function wholeNumber(value: string): bigint | undefined {
  return /^[+-]?\d+$/.test(value) ? BigInt(value) : undefined;
}

function inRange(value: string, min: bigint, max: bigint): boolean {
  const n = wholeNumber(value);
  return n !== undefined && n >= min && n <= max;
}

const HEX32 = '[0-9a-f]{32}';
const DASHED = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const GUID = new RegExp(`^(?:${HEX32}|${DASHED}|\\{${DASHED}\\}|\\(${DASHED}\\))$`, 'i');

export class RouteTemplateError extends Error {}

function integerArg(name: string, text: string): bigint {
  const n = wholeNumber(text.trim());
  if (n === undefined) throw new RouteTemplateError(`${name}(${text}): the argument must be a whole number`);
  return n;
}

function lengthArg(name: string, text: string): number {
  const n = integerArg(name, text);
  if (n < 0n) throw new RouteTemplateError(`${name}(${text}): a length cannot be negative`);
  return Number(n);
}

function argsOf(name: string, args: string | undefined, count: number[]): string[] {
  const list = args === undefined ? [] : name === 'regex' ? [args] : args.split(',');
  if (!count.includes(list.length)) {
    throw new RouteTemplateError(`${name} takes ${count.join(' or ')} argument(s), got ${list.length}`);
  }
  return list;
}

/** Builds the check for one constraint (`int`, `length(2,3)`, …); throws RouteTemplateError if unknown or malformed. */
export function compileConstraint(name: string, args: string | undefined): ConstraintCheck {
  switch (name.toLowerCase()) {
    case 'int':
      argsOf(name, args, [0]);
      return (v) => inRange(v, INT32.min, INT32.max);
    case 'long':
      argsOf(name, args, [0]);
      return (v) => inRange(v, INT64.min, INT64.max);
    case 'bool':
      argsOf(name, args, [0]);
      return (v) => /^(true|false)$/i.test(v);
    case 'guid':
      argsOf(name, args, [0]);
      return (v) => GUID.test(v);
    case 'alpha':
      argsOf(name, args, [0]);
      return (v) => /^[a-z]*$/i.test(v);
    case 'required':
      argsOf(name, args, [0]);
      return (v) => v.length > 0;
    case 'length': {
      const list = argsOf(name, args, [1, 2]);
      const [min, max] = list.map((a) => lengthArg(name, a));
      if (max === undefined) return (v) => v.length === min;
      if ((min as number) > max) throw new RouteTemplateError(`length(${args}): min is greater than max`);
      return (v) => v.length >= (min as number) && v.length <= max;
    }
    case 'minlength': {
      const min = lengthArg(name, argsOf(name, args, [1])[0] as string);
      return (v) => v.length >= min;
    }
    case 'maxlength': {
      const max = lengthArg(name, argsOf(name, args, [1])[0] as string);
      return (v) => v.length <= max;
    }
    case 'min': {
      const min = integerArg(name, argsOf(name, args, [1])[0] as string);
      return (v) => inRange(v, min > INT64.min ? min : INT64.min, INT64.max);
    }
    case 'max': {
      const max = integerArg(name, argsOf(name, args, [1])[0] as string);
      return (v) => inRange(v, INT64.min, max < INT64.max ? max : INT64.max);
    }
    case 'range': {
      const [min, max] = argsOf(name, args, [2]).map((a) => integerArg(name, a)) as [bigint, bigint];
      if (min > max) throw new RouteTemplateError(`range(${args}): min is greater than max`);
      return (v) => inRange(v, min, max);
    }
    case 'regex': {
      const [source] = argsOf(name, args, [1]) as [string];
      let pattern: RegExp;
      try {
        pattern = new RegExp(source, 'i');
      } catch (error) {
        throw new RouteTemplateError(`regex(${source}): ${(error as Error).message}`);
      }
      return (v) => pattern.test(v);
    }
    default:
      throw new RouteTemplateError(`the route constraint "${name}" is not supported by the local host`);
  }
}

/**
 * Splits `:int:min(1)` (the part of a parameter after its name) into constraint checks. A
 * constraint's arguments run to the first `)` that ends the constraint (followed by `:` or the end),
 * so a regex may contain `:` and parentheses.
 */
export function parseConstraints(text: string): ConstraintCheck[] {
  const checks: ConstraintCheck[] = [];
  let at = 0;
  while (at < text.length) {
    if (text[at] !== ':') throw new RouteTemplateError(`expected ":" before a constraint in "${text}"`);
    const name = /^[A-Za-z]+/.exec(text.slice(at + 1))?.[0];
    if (!name) throw new RouteTemplateError(`a constraint has no name in "${text}"`);
    at += 1 + name.length;
    let args: string | undefined;
    if (text[at] === '(') {
      let close = -1;
      for (let i = at + 1; i < text.length; i++) {
        if (text[i] === ')' && (i + 1 === text.length || text[i + 1] === ':')) {
          close = i;
          break;
        }
      }
      if (close < 0) throw new RouteTemplateError(`${name}(…: the arguments are not closed in "${text}"`);
      args = text.slice(at + 1, close);
      at = close + 1;
    }
    checks.push(compileConstraint(name, args));
  }
  return checks;
}
