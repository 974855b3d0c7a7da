/**
 * What each bentoport row of `pnpm bench` is compared with. A reference of the *same work* does
 * everything our operation does: an export reads the tree, builds and compresses the archive,
 * writes it and hashes it (bentoport reports the archive's SHA-256); an import reads the archive,
 * hashes it and extracts it. The older references that skip the hash are kept beside them, with
 * their `work` saying what they leave out, so a ratio against one of them is never mistaken for
 * a like-for-like one. The tools are spawned here only: the product never does.
 */
import type { BenchFormat } from './bench-settings.js';

export type Operation = 'export' | 'import';

/** Absolute paths a reference works on. */
export interface ReferencePaths {
  /** The bento directory with its models under `models/`, as BentoML archives it. */
  tree: string;
  /** Where an export reference writes its archive (without extension for Python's make_archive). */
  output: string;
  /** The archive an import reference reads: bentoport's own export of this round. */
  archive: string;
  /** An empty directory an import reference extracts into. */
  extractInto: string;
}

export interface Reference {
  /** Name in the table and in BENCH_SKIP. */
  tool: string;
  operation: Operation;
  /** `same` for the same work as ours; otherwise what this reference leaves out. */
  work: string;
  command(paths: ReferencePaths): string[];
  /** The file whose size is the row's output size (export references). */
  outputFile?(paths: ReferencePaths): string;
}

/** The tool names the targets are checked against. */
export const TOOLS = {
  tarExport: 'tar cf - | tee | sha256sum',
  tarImport: 'tar xf - + sha256sum',
  pigzExport: "tar -I 'pigz -p2' cf - | tee | sha256sum",
  gzipExport: 'tar czf - | tee | sha256sum',
  pigzImport: 'tar -I pigz xf - + sha256sum',
  gzipImport: 'tar xzf - + sha256sum',
  zipExport: 'zip -r -1 - | tee | sha256sum',
  zipImport: 'unzip + sha256sum',
  xzExport: "tar -I 'xz -T2' cf - | tee | sha256sum",
  xzImport: "tar -I 'xz -T2' xf - + sha256sum",
  bentomlExport: 'python xztar',
  bzip2Export: 'tar -I bzip2 cf - | tee | sha256sum',
  bzip2Import: 'tar xjf - + sha256sum',
} as const;

const NO_HASH = 'less: no hash';

/** bash with pipefail, so a failing stage fails the run instead of timing a short pipe. */
const bash = (script: string, ...args: string[]): string[] => ['bash', '-c', `set -euo pipefail; ${script}`, 'bash', ...args];

/** `cd tree; PRODUCER | tee OUT | sha256sum`: archive, write and hash in one pass, as our export. */
function hashedExport(producer: string[]): (paths: ReferencePaths) => string[] {
  return (paths) => bash('out=$1; cd "$2"; shift 2; "$@" | tee "$out" | sha256sum > /dev/null', paths.output, paths.tree, ...producer);
}

/**
 * `tee /dev/fd/3 < ARCHIVE | CONSUMER` with fd 3 on `sha256sum`: the archive is read once, hashed
 * and extracted side by side, as our import does. sha256sum ends only when tee and the consumer
 * (which inherit fd 3) have exited, so the pipeline's end is the end of all three.
 */
function hashedImport(consumer: string[]): (paths: ReferencePaths) => string[] {
  return (paths) =>
    bash('archive=$1; mkdir -p "$2"; cd "$2"; shift 2; { tee /dev/fd/3 < "$archive" | "$@" > /dev/null; } 3>&1 | sha256sum > /dev/null', paths.archive, paths.extractInto, ...consumer);
}

/** unzip needs to seek, so it cannot read a pipe: the hash reads the same file beside it. */
function hashedUnzip(paths: ReferencePaths): string[] {
  return bash('sha256sum "$1" > /dev/null & hashing=$!; unzip -q -o "$1" -d "$2"; wait "$hashing"', paths.archive, paths.extractInto);
}

/** Python's `shutil.make_archive`, BentoML's own export path (it writes no hash). */
function pythonExport(shutilFormat: string, extension: string): Pick<Reference, 'tool' | 'command' | 'outputFile'> {
  return {
    tool: `python ${shutilFormat}`,
    command: (paths) => ['python3', '-c', 'import shutil, sys; shutil.make_archive(sys.argv[1], sys.argv[2], root_dir=sys.argv[3])', paths.output, shutilFormat, paths.tree],
    outputFile: (paths) => `${paths.output}${extension}`,
  };
}

/** GNU tar writing a file itself: the references of earlier versions of this bench. */
function plainTarExport(tool: string, compressor: string[]): Reference {
  return { tool, operation: 'export', work: NO_HASH, command: (paths) => ['tar', ...compressor, '-cf', paths.output, '-C', paths.tree, '.'], outputFile: (paths) => paths.output };
}

function plainTarImport(tool: string, compressor: string[]): Reference {
  return { tool, operation: 'import', work: NO_HASH, command: (paths) => bash('mkdir -p "$2"; tar "${@:3}" -xf "$1" -C "$2"', paths.archive, paths.extractInto, ...compressor) };
}

function sameExport(tool: string, producer: string[]): Reference {
  return { tool, operation: 'export', work: 'same', command: hashedExport(producer), outputFile: (paths) => paths.output };
}

function sameImport(tool: string, consumer: string[]): Reference {
  return { tool, operation: 'import', work: 'same', command: hashedImport(consumer) };
}

const pythonRow = (shutilFormat: string, extension: string): Reference => ({ ...pythonExport(shutilFormat, extension), operation: 'export', work: NO_HASH });

/**
 * The references of one format, same-work ones first. `hasPigz` leaves out the pigz rows where
 * pigz is not installed (the caller says so).
 */
export function referencesFor(format: BenchFormat, hasPigz: boolean): Reference[] {
  switch (format) {
    case 'tar':
      return [
        sameExport(TOOLS.tarExport, ['tar', '-cf', '-', '.']),
        plainTarExport('tar cf', []),
        pythonRow('tar', '.tar'),
        sameImport(TOOLS.tarImport, ['tar', '-xf', '-']),
        plainTarImport('tar xf', []),
      ];
    case 'gz':
      return [
        ...(hasPigz ? [sameExport(TOOLS.pigzExport, ['tar', '-I', 'pigz -p2', '-cf', '-', '.'])] : []),
        // Single-threaded, but the size target is set against it.
        sameExport(TOOLS.gzipExport, ['tar', '-czf', '-', '.']),
        pythonRow('gztar', '.tar.gz'),
        ...(hasPigz ? [sameImport(TOOLS.pigzImport, ['tar', '-I', 'pigz', '-xf', '-'])] : []),
        sameImport(TOOLS.gzipImport, ['tar', '-xzf', '-']),
        plainTarImport('tar xzf', ['-z']),
      ];
    case 'zip':
      return [
        // zip cannot write a symbolic link entry to a pipe (-y), so it stores the one link of the
        // bento as the small file it points to: a few bytes more than bentoport writes.
        sameExport(TOOLS.zipExport, ['zip', '-q', '-r', '-1', '-', '.']),
        pythonRow('zip', '.zip'),
        { tool: TOOLS.zipImport, operation: 'import', work: 'same', command: hashedUnzip },
        {
          tool: 'python unpack zip',
          operation: 'import',
          work: NO_HASH,
          command: (paths) => ['python3', '-c', "import shutil, sys; shutil.unpack_archive(sys.argv[1], sys.argv[2], 'zip')", paths.archive, paths.extractInto],
        },
      ];
    case 'bento':
      return [
        sameExport(TOOLS.xzExport, ['tar', '-I', 'xz -T2', '-cf', '-', '.']),
        pythonRow('xztar', '.tar.xz'),
        sameImport(TOOLS.xzImport, ['tar', '-I', 'xz -T2', '-xf', '-']),
        plainTarImport('tar xJf', ['-J']),
      ];
    case 'bz2':
      return [
        sameExport(TOOLS.bzip2Export, ['tar', '-I', 'bzip2', '-cf', '-', '.']),
        pythonRow('bztar', '.tar.bz2'),
        sameImport(TOOLS.bzip2Import, ['tar', '-xjf', '-']),
        plainTarImport('tar xjf', ['-j']),
      ];
  }
}
