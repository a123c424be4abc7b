/**
 * Ends a switch over a message union: when a new member is not handled, `value` is not `never`
 * and the call fails to compile. At run time it only throws if a value bypassed validation.
 */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unhandled ${what}: ${JSON.stringify(value)}`);
}
