import { describe, expect, it } from 'vitest';
import type { OptionValues } from './command-line.js';
import { protocolsNamed, transportsFor } from './transport-loading.js';

const protocolsOf = async (argumentsGiven: string[], values: OptionValues = {}): Promise<string[][]> =>
  (await transportsFor(argumentsGiven, values, {})).map((transport) => [...transport.protocols]);

describe('transportsFor', () => {
  it('loads only the local file transport when no protocol is named', async () => {
    expect(await protocolsOf(['iris:latest', './out/iris.bento'])).toEqual([['file']]);
  });

  it('loads the transport of each URL scheme, once, whatever its case or alias', async () => {
    expect(await protocolsOf(['iris:latest', 'S3://bucket/dir/'])).toEqual([['file'], ['s3', 's3a']]);
    expect(await protocolsOf(['https://example.test/a.bento', 'http://example.test/b.bento'])).toEqual([['file'], ['http', 'https']]);
    expect(await protocolsOf(['ftps://host/a.tar', 'sftp://user@host/a.tar'])).toEqual([['file'], ['ftp', 'ftps'], ['sftp']]);
  });

  it('honours --protocol (BentoML form: a bucket/key path with protocol s3)', async () => {
    expect(await protocolsOf(['iris:latest', 'bucket/key.bento'], { protocol: 's3a' })).toEqual([['file'], ['s3', 's3a']]);
  });

  it('loads nothing for a protocol no package serves, so that core reports it', async () => {
    expect(await protocolsOf(['gs://bucket/a.bento'])).toEqual([['file']]);
    expect([...protocolsNamed(['gs://bucket/a.bento'], {})]).toEqual(['gs']);
  });
});
