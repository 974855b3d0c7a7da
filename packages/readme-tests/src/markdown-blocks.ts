import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory. */
export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Fence languages run as shell scripts (`bash -euo pipefail`). */
export const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console']);
/** Fence languages run as TypeScript modules. */
export const SCRIPT_LANGUAGES = new Set(['ts', 'typescript', 'js']);

/** One fenced code block of a markdown file. */
export interface FencedBlock {
  /** The markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's language word ('' when none). */
  language: string;
  /** The lines between the fences. */
  code: string;
  /** The reason of a `<!-- readme-test: skip — reason -->` comment right before the fence. */
  skipReason?: string;
}

/** One inline link `[text](target)` outside code. */
export interface MarkdownLink {
  file: string;
  line: number;
  target: string;
}

/**
 * The markdown files the tests read: the root README, each package's, app's and example's README,
 * and every document under docs/.
 */
export function markdownFiles(root = REPOSITORY_ROOT): string[] {
  const files = ['README.md'];
  for (const group of ['packages', 'apps', 'examples']) {
    const directory = path.join(root, group);
    if (!existsSync(directory)) continue;
    for (const name of readdirSync(directory).sort()) {
      const readme = path.join(group, name, 'README.md');
      if (existsSync(path.join(root, readme))) files.push(readme);
    }
  }
  const docs = path.join(root, 'docs');
  if (existsSync(docs)) files.push(...readdirSync(docs).filter((name) => name.endsWith('.md')).sort().map((name) => path.join('docs', name)));
  return files;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;
const SKIP_COMMENT = /^<!--\s*readme-test:\s*skip\s*[—–-]+\s*(.+?)\s*-->$/;

/** The fenced blocks of one markdown file, in order. */
export function fencedBlocks(file: string, root = REPOSITORY_ROOT): FencedBlock[] {
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
  const blocks: FencedBlock[] = [];
  for (let index = 0; index < lines.length; index++) {
    const opening = FENCE.exec(lines[index] ?? '');
    if (opening === null) continue;
    const fence = opening[1] ?? '```';
    const start = index;
    const body: string[] = [];
    for (index++; index < lines.length && !(lines[index] ?? '').trim().startsWith(fence); index++) body.push(lines[index] ?? '');
    let previous = start - 1;
    while (previous >= 0 && (lines[previous] ?? '').trim() === '') previous--;
    const skip = SKIP_COMMENT.exec((lines[previous] ?? '').trim());
    blocks.push({ file, line: start + 1, language: (opening[2] ?? '').toLowerCase(), code: body.join('\n'), ...(skip ? { skipReason: skip[1] } : {}) });
  }
  return blocks;
}

/** The inline links of one markdown file, outside fenced blocks and inline code. */
export function markdownLinks(file: string, root = REPOSITORY_ROOT): MarkdownLink[] {
  const lines = readFileSync(path.join(root, file), 'utf8').split('\n');
  const links: MarkdownLink[] = [];
  let fence: string | undefined;
  lines.forEach((text, index) => {
    const opening = FENCE.exec(text);
    if (fence !== undefined) {
      if (text.trim().startsWith(fence)) fence = undefined;
      return;
    }
    if (opening !== null) {
      fence = opening[1];
      return;
    }
    const prose = text.replace(/(`+)[^`]*?\1/g, '');
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ file, line: index + 1, target: match[1] ?? '' });
  });
  return links;
}
