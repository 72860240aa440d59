// Outside the Functions worker, @azure/functions warns once per registration that it is in test
// mode; that is expected in tests and only hides real output.
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && /"@azure\/functions" package (is in|to) test mode/.test(args[0])) return;
  warn(...args);
};
