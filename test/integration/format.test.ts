// --format through the CLI, as Docker's: Go templates for inspect (container, image, volume) and
// for lists (ps, images, volume ls, network ls, system df), `table` and `json`, and a template
// that does not parse or fails is an error with Docker's text and exit status, never printed as is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HullEnv, canRunContainers, skipReason } from '../helpers/hull-env.js';

describe.skipIf(!canRunContainers)(`--format templates (integration${skipReason})`, () => {
  let env: HullEnv;

  beforeAll(async () => {
    env = new HullEnv();
    await env.loadBusybox();
    const r = env.cli(['create', '--name', 'fmt', '-e', 'A=1', '-e', 'B=x y', 'busybox', 'sh', '-c', 'exit 3']);
    expect(r.stderr).toBe('');
    expect(env.cli(['volume', 'create', '--label', 'team=core', '--label', 'tier=db', 'fmtvol']).code).toBe(0);
  });
  afterAll(() => {
    env.cli(['rm', '-f', 'fmt']);
    env.cli(['volume', 'rm', 'fmtvol']);
    expect(env.leftovers()).toEqual([]);
    env.destroy();
  });

  const ok = (args: string[]): string => {
    const r = env.cli(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };

  it('inspect -f runs Go templates: range, index, if/eq, split, json, variables, printf', () => {
    expect(ok(['inspect', '-f', '{{range .Config.Env}}{{if eq (index (split . "=") 0) "A" "B"}}{{.}};{{end}}{{end}}', 'fmt'])).toBe('A=1;B=x y;\n');
    expect(ok(['inspect', '-f', '{{range $i, $a := .Config.Cmd}}{{$i}}={{$a}} {{end}}', 'fmt'])).toBe('0=sh 1=-c 2=exit 3 \n');
    expect(ok(['inspect', '-f', '{{.Config.Cmd}} {{len .Config.Cmd}} {{index .Config.Cmd 2}}', 'fmt'])).toBe('[sh -c exit 3] 3 exit 3\n');
    const full = (JSON.parse(ok(['inspect', 'fmt'])) as { State: Record<string, unknown>; Id: string }[])[0]!;
    expect(JSON.parse(ok(['inspect', '-f', '{{json .State}}', 'fmt']))).toEqual(full.State);
    expect(ok(['inspect', '-f', '{{.State.Status}} {{.State.Running}} {{.State.Pid}} {{.Nope}}', 'fmt'])).toBe('created false 0 <no value>\n');
    expect(ok(['inspect', '-f', '{{$id := .Id}}{{printf "%.12s|%-8s|" $id .State.Status}}{{upper .Name}}', 'fmt'])).toBe(
      `${full.Id.slice(0, 12)}|created |/FMT\n`,
    );
    expect(ok(['inspect', '-f', '{{- /* trimmed */ -}} {{if not .State.Running}}stopped{{else}}up{{end}}', 'fmt'])).toBe('stopped\n');
    expect(JSON.parse(ok(['inspect', '-f', 'json', 'fmt']))).toEqual([full]);
  });

  it('image and volume inspect take templates too; network ls lists through one', () => {
    expect(ok(['image', 'inspect', '-f', '{{range .RepoTags}}{{.}}{{end}} {{.Os}}', 'busybox'])).toBe('busybox:latest linux\n');
    expect(ok(['volume', 'inspect', '-f', '{{index .Labels "team"}} {{.Labels.tier}} {{.Labels}} {{.Driver}}', 'fmtvol'])).toBe(
      'core db map[team:core tier:db] local\n',
    );
    expect(ok(['network', 'ls', '--format', '{{.Name}}/{{.Driver}}'])).toBe('host/host\nnone/null\n');
  });

  it('lists: a template per row, table with a header row, json one object a line', () => {
    expect(ok(['ps', '-a', '--format', '{{.Names}}'])).toBe('fmt\n');
    expect(ok(['ps', '-a', '--format', 'table {{.Names}}\\t{{.State}}\\t{{.Label "x"}}'])).toBe('NAMES     STATE     x\nfmt       created   \n');
    expect(JSON.parse(ok(['ps', '-a', '--format', 'json']))).toMatchObject({ Names: 'fmt', State: 'created', Image: 'busybox' });
    expect(ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{len .ID}}'])).toBe('busybox:latest 12\n');
    expect(ok(['images', '--format', 'table {{.Repository}}\\t{{.Tag}}'])).toBe('REPOSITORY   TAG\nbusybox      latest\n');
    expect(ok(['volume', 'ls', '--format', '{{.Name}} {{.Labels}} {{.Label "team"}}'])).toBe('fmtvol team=core,tier=db core\n');
    expect(ok(['system', 'df', '--format', '{{.Type}}={{.TotalCount}}'])).toBe('Images=1\nContainers=1\nLocal Volumes=1\nBuild Cache=0\n');
  });

  it("a template that does not parse or fails is an error with Docker's text and exit status", () => {
    const parse = env.cli(['inspect', '-f', '{{range .Config.Env}}{{.}}', 'fmt']);
    expect(parse).toEqual({ code: 64, stdout: '', stderr: 'hull: template parsing error: template: :1: unexpected EOF\n' });
    const exec = env.cli(['inspect', '-f', '{{.Id}}{{.State.Pid.X}}', 'fmt']);
    expect(exec.code).toBe(1);
    expect(exec.stdout).toBe('\n');
    expect(exec.stderr).toBe('hull: template parsing error: template: :1:15: executing "" at <.State.Pid.X>: can\'t evaluate field X in type int\n');
    const fn = env.cli(['ps', '-a', '--format', '{{index .Names}} {{nope .Names}}']);
    expect(fn).toEqual({ code: 1, stdout: '', stderr: 'hull: failed to parse template: template: :1: function "nope" not defined\n' });
    const field = env.cli(['ps', '-a', '--format', '{{.Nope}}']);
    expect(field.code).toBe(1);
    expect(field.stderr).toBe(
      'hull: failed to execute template: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext\n',
    );
    const images = env.cli(['images', '--format', '{{.Repository']);
    expect(images).toEqual({ code: 1, stdout: '', stderr: 'hull: template parsing error: template: :1: unclosed action\n' });
    const volume = env.cli(['volume', 'inspect', '-f', '{{if}}', 'fmtvol']);
    expect(volume).toEqual({ code: 64, stdout: '', stderr: 'hull: template parsing error: template: :1: missing value for if\n' });
  });
});
