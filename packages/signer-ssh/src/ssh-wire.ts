/**
 * SSH's wire encoding (RFC 4251 §5): big-endian uint32, length-prefixed strings and mpints. Keys,
 * signatures and agent messages are all built from these.
 */

/** Reads SSH wire values from a buffer; every read checks the bounds, so a short blob fails cleanly. */
export class WireReader {
  private position = 0;

  constructor(private readonly bytes: Buffer) {}

  /** True when every byte was read. */
  get done(): boolean {
    return this.position >= this.bytes.length;
  }

  uint32(): number {
    this.need(4);
    const value = this.bytes.readUInt32BE(this.position);
    this.position += 4;
    return value;
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.position++] as number;
  }

  /** A length-prefixed byte string. */
  string(): Buffer {
    const length = this.uint32();
    return this.raw(length);
  }

  /** A length-prefixed string read as UTF-8. */
  text(): string {
    return this.string().toString('utf8');
  }

  /** A fixed number of bytes without a length prefix. */
  raw(length: number): Buffer {
    this.need(length);
    const value = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return value;
  }

  /** Everything not read yet. */
  rest(): Buffer {
    return this.raw(this.bytes.length - this.position);
  }

  private need(length: number): void {
    if (this.position + length > this.bytes.length) throw new RangeError(`SSH data ends early: ${length} more bytes wanted at offset ${this.position}`);
  }
}

/** A big-endian uint32. */
export function wireUint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

/** A length-prefixed string. */
export function wireString(value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([wireUint32(bytes.length), bytes]);
}

/**
 * An mpint: a positive integer's big-endian bytes without leading zeros, plus one zero byte when
 * the top bit is set (the value would otherwise read as negative).
 */
export function wireMpint(unsignedBigEndian: Buffer): Buffer {
  let start = 0;
  while (start < unsignedBigEndian.length && unsignedBigEndian[start] === 0) start++;
  const trimmed = unsignedBigEndian.subarray(start);
  const padded = trimmed.length > 0 && ((trimmed[0] as number) & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return wireString(padded);
}

/** An mpint's magnitude without the sign byte, left-padded with zeros to `width` bytes. */
export function unsignedFixed(mpint: Buffer, width: number): Buffer {
  let start = 0;
  while (start < mpint.length - 1 && mpint[start] === 0) start++;
  const trimmed = mpint.subarray(start);
  if (trimmed.length > width) throw new RangeError(`integer of ${trimmed.length} bytes does not fit ${width}`);
  return Buffer.concat([Buffer.alloc(width - trimmed.length), trimmed]);
}

/** Base64url without padding, as JWK wants its integers. */
export function base64Url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** An mpint's magnitude: its bytes without the leading zeros (JWK integers carry none). */
export function magnitude(mpint: Buffer): Buffer {
  let start = 0;
  while (start < mpint.length - 1 && mpint[start] === 0) start++;
  return mpint.subarray(start);
}
