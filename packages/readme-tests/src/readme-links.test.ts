import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT, fencedBlocks, markdownFiles, markdownLinks } from './markdown-blocks.js';

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/`/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** The anchors a markdown file's headings give (outside fenced blocks). */
function anchorsOf(file: string): Set<string> {
  const lines = readFileSync(path.join(REPOSITORY_ROOT, file), 'utf8').split('\n');
  const fenced = new Set(fencedBlocks(file).flatMap((block) => Array.from({ length: block.code.split('\n').length + 2 }, (_, offset) => block.line - 1 + offset)));
  return new Set(lines.flatMap((text, index) => (!fenced.has(index) && /^#{1,6}\s/.test(text) ? [slug(text.replace(/^#+\s*/, ''))] : [])));
}

describe('README links', () => {
  for (const file of markdownFiles()) {
    const links = markdownLinks(file).filter((link) => !/^[a-z][a-z0-9+.-]*:/i.test(link.target));
    if (links.length === 0) continue;
    it.each(links.map((link) => [`${link.file}:${link.line} → ${link.target}`, link] as const))('%s', (_name, link) => {
      const [linkPath = '', anchor] = link.target.split('#');
      const target = linkPath === '' ? path.join(REPOSITORY_ROOT, link.file) : path.resolve(REPOSITORY_ROOT, path.dirname(link.file), decodeURIComponent(linkPath));
      const inside = path.relative(REPOSITORY_ROOT, target);
      expect(inside.startsWith('..') || path.isAbsolute(inside), `${link.target} leaves the repository`).toBe(false);
      expect(existsSync(target), `${link.target} does not exist`).toBe(true);
      if (anchor !== undefined && target.endsWith('.md')) {
        expect([...anchorsOf(path.relative(REPOSITORY_ROOT, target))], `no heading gives #${anchor}`).toContain(anchor);
      }
    });
  }
});
