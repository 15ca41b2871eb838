// Facts about the machine and the checkout a benchmark ran on, recorded with its results.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';

const require = createRequire(import.meta.url);

function tryRun(cmd: string, args: string[], cwd: string): string | undefined {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1]!;
  } catch {
    // not Linux, or no os-release
  }
  return `${os.type()} ${os.release()}`;
}

function packageVersion(name: string): string | undefined {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

export interface MachineFacts {
  os: string;
  kernel: string;
  arch: string;
  cpu: string;
  cpus: number;
  memoryBytes: number;
  node: string;
  onnxruntimeNode?: string;
  /** 1-minute load average when the run began: high means other work shared the CPUs. */
  loadAverage1m: number;
  commit?: string;
  dirty?: boolean;
}

export function machineFacts(repoRoot: string): MachineFacts {
  const cpus = os.cpus();
  const commit = tryRun('git', ['rev-parse', '--short=12', 'HEAD'], repoRoot);
  const status = tryRun('git', ['status', '--porcelain', '--untracked-files=no'], repoRoot);
  return {
    os: osName(),
    kernel: os.release(),
    arch: os.arch(),
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memoryBytes: os.totalmem(),
    node: process.version,
    onnxruntimeNode: packageVersion('onnxruntime-node'),
    loadAverage1m: Number(os.loadavg()[0]!.toFixed(2)),
    commit,
    dirty: status === undefined ? undefined : status.length > 0,
  };
}
