import { looksLikeTarHeader } from '@bentoport/tar';

/**
 * The format token whose magic starts `head`: `gz` for the gzip magic, `tar` for a tar header
 * (ustar or GNU magic, or a v7 header whose checksum adds up).
 *
 * A gzip file is reported as `gz` even if it holds no tar: only decoding can tell, and `.gz` is
 * BentoML's name for tar+gzip. xz, bzip2 and zip are left to their own formats.
 */
export function sniffTar(head: Uint8Array): 'tar' | 'gz' | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gz';
  return looksLikeTarHeader(head) ? 'tar' : undefined;
}
