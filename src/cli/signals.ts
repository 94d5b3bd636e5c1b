import { constants } from 'node:os';

/** The signals `hull run` passes on to the container (Docker's sig-proxy). */
const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** Forward hull's signals to `deliver`; returns the function that stops forwarding. */
export function proxySignals(deliver: (signal: number) => void): () => void {
  const handlers = PROXIED.map((name) => {
    const handler = () => deliver(constants.signals[name]);
    process.on(name, handler);
    return [name, handler] as const;
  });
  return () => {
    for (const [name, handler] of handlers) process.off(name, handler);
  };
}
