/**
 * The type check of the TypeScript blocks: all of them in one program, with the repository's
 * compiler options, so a snippet that calls an API the way it no longer exists fails even where
 * JavaScript would let it run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPOSITORY_ROOT, type FencedBlock } from './markdown-blocks.js';

/** TypeScript blocks are written here, inside the workspace, so that their imports resolve. */
export const SCRIPT_DIRECTORY = path.join(REPOSITORY_ROOT, 'packages', 'readme-tests', '.blocks');

/** The file name of a block's module (without extension). */
export function blockModuleName(block: FencedBlock): string {
  return `${block.file.replace(/[^a-z0-9]+/gi, '-')}-${block.line}`;
}

/** The type errors of each block (by module name), each as `README line: message`. */
export function typeErrors(blocks: readonly FencedBlock[]): Map<string, string[]> {
  mkdirSync(SCRIPT_DIRECTORY, { recursive: true });
  const files = new Map<string, FencedBlock>();
  for (const block of blocks) {
    const file = path.join(SCRIPT_DIRECTORY, `${blockModuleName(block)}.ts`);
    writeFileSync(file, `${block.code}\n`);
    files.set(file, block);
  }
  const base = ts.readConfigFile(path.join(REPOSITORY_ROOT, 'tsconfig.base.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(base.config, ts.sys, SCRIPT_DIRECTORY);
  const program = ts.createProgram([...files.keys()], { ...options, noEmit: true, declaration: false, sourceMap: false });
  const errors = new Map<string, string[]>([...files.values()].map((block) => [blockModuleName(block), []]));
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const block = diagnostic.file === undefined ? undefined : files.get(path.resolve(diagnostic.file.fileName));
    if (block === undefined || diagnostic.file === undefined) continue;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    errors.get(blockModuleName(block))?.push(`${block.file}:${block.line + 1 + line}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`);
  }
  return errors;
}
