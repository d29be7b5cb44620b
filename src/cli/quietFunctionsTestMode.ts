/**
 * The CLI runs the function handlers outside the Functions host, so importing the function files puts
 * `@azure/functions` in test mode, which warns once per registration. Those warnings say nothing to a
 * CLI user: drop exactly them. Import this module before any function file.
 */
const original = console.warn.bind(console);
const TEST_MODE = /^WARNING: (Failed to detect the Azure Functions runtime|Skipping call to register function)/;

console.warn = (...args: unknown[]) => {
  if (typeof args[0] === "string" && TEST_MODE.test(args[0])) return;
  original(...args);
};
