import type { Command } from 'commander';
import { type EventMessage } from '../../events/log.js';
import { matchesEvent, parseEventFilters, parseEventTime } from '../../events/filter.js';
import { ListFormat } from '../../format/formatter.js';
import { collect, hullFor } from '../context.js';

interface EventsFlags {
  since?: string;
  until?: string;
  filter?: string[];
  format?: string;
}

/** `hull events` and `hull system events`. */
export function registerEvents(program: Command): void {
  defineEvents(program.command('events'));
}

/** The verb's flags and action on `command` (shared by `events` and `system events`). */
export function defineEvents(command: Command): Command {
  return command
    .description('get real time events from hull (containers, images, networks, volumes)')
    .option('--since <time>', 'show events since a time (RFC 3339, Unix seconds) or a duration ago (10m)')
    .option('--until <time>', 'stream events until this time, then stop')
    .option('-f, --filter <filter>', 'filter: type=, event=, container=, image=, label=k[=v], network=, volume= (repeatable)', collect, [])
    .option('--format <format>', "'json' or a Go template: {{json .}}, {{.Type}} {{.Action}} {{.Actor.ID}}")
    .action(async (flags: EventsFlags, cmd: Command) => {
      const now = new Date();
      const filters = parseEventFilters(flags.filter ?? []);
      const format = flags.format === undefined || flags.format === '' ? undefined : ListFormat.parse(flags.format, {});
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const events = hullFor(cmd).events({
          ...(flags.since !== undefined ? { since: parseEventTime(flags.since, now) } : {}),
          ...(flags.until !== undefined ? { until: parseEventTime(flags.until, now) } : {}),
          filter: (ev) => matchesEvent(filters, ev),
          signal: stop.signal,
        });
        for await (const ev of events) {
          const text = format ? format.render([ev]) : eventText(ev);
          if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once('drain', resolve));
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** Docker's default line: `2026-12-06T15:00:00.000000000Z container start <id> (image=busybox, name=x)`, attributes sorted. */
export function eventText(ev: EventMessage): string {
  const ns = ev.timeNano;
  const seconds = new Date(Number(ns / 1_000_000_000n) * 1000).toISOString().slice(0, 19);
  const stamp = `${seconds}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
  const attrs = Object.keys(ev.Actor.Attributes)
    .sort()
    .map((k) => `${k}=${ev.Actor.Attributes[k]}`);
  return `${stamp} ${ev.Type} ${ev.Action} ${ev.Actor.ID}${attrs.length > 0 ? ` (${attrs.join(', ')})` : ''}\n`;
}
