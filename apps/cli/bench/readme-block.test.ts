import { describe, expect, it } from 'vitest';
import { BENCH_BLOCK_END, BENCH_BLOCK_START, replaceMarkedBlock } from './readme-block.js';

const document = ['# Title', '', BENCH_BLOCK_START, 'old table', 'old note', BENCH_BLOCK_END, '', 'after'].join('\n');

describe('replaceMarkedBlock', () => {
  it('replaces only what lies between the markers, and keeps them', () => {
    const result = replaceMarkedBlock(document, '| new |\n|---|\n');
    expect(result).toBe(['# Title', '', BENCH_BLOCK_START, '| new |', '|---|', BENCH_BLOCK_END, '', 'after'].join('\n'));
  });

  it('gives the same document when run twice with the same block', () => {
    const once = replaceMarkedBlock(document, 'table');
    expect(replaceMarkedBlock(once, 'table')).toBe(once);
  });

  it('fills markers that sit on one line', () => {
    expect(replaceMarkedBlock(`x ${BENCH_BLOCK_START}${BENCH_BLOCK_END} y`, 'table')).toBe(`x ${BENCH_BLOCK_START}\ntable\n${BENCH_BLOCK_END} y`);
  });

  it('empties the block when given nothing', () => {
    expect(replaceMarkedBlock(document, '  \n')).toBe(['# Title', '', BENCH_BLOCK_START, BENCH_BLOCK_END, '', 'after'].join('\n'));
  });

  it('refuses a document without the start marker, naming it', () => {
    expect(() => replaceMarkedBlock(`text\n${BENCH_BLOCK_END}\n`, 'table', 'README.md')).toThrow(`README.md has no ${BENCH_BLOCK_START} marker`);
  });

  it('refuses a document without the end marker', () => {
    expect(() => replaceMarkedBlock(`${BENCH_BLOCK_START}\ntext\n`, 'table')).toThrow(`has no ${BENCH_BLOCK_END} marker`);
  });

  it('refuses a repeated marker', () => {
    expect(() => replaceMarkedBlock(`${document}\n${BENCH_BLOCK_START}\n`, 'table')).toThrow(`2 ${BENCH_BLOCK_START} markers`);
  });

  it('refuses markers in the wrong order', () => {
    expect(() => replaceMarkedBlock(`${BENCH_BLOCK_END}\n${BENCH_BLOCK_START}\n`, 'table')).toThrow('comes before');
  });

  it('takes other markers', () => {
    const markers = { start: '<!-- a -->', end: '<!-- b -->' };
    expect(replaceMarkedBlock('<!-- a -->old<!-- b -->', 'new', 'doc', markers)).toBe('<!-- a -->\nnew\n<!-- b -->');
  });
});
