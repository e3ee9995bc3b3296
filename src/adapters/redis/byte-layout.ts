/**
 * A byte writer and reader for compact values: unsigned and signed (zigzag)
 * varints as protobuf writes them, and length-prefixed UTF-8 strings and
 * byte strings. Numbers are JavaScript's safe integers; anything else is
 * refused when written, and a reader that runs past its end throws.
 */
/** The largest magnitude int() takes: its zigzag form must stay a safe integer (dates up to the year 142,000 and more). */
const MAX_INT = 2 ** 52;

export class ByteWriter {
  private buffer = Buffer.allocUnsafe(256);
  private length = 0;

  /** An unsigned safe integer in 7-bit groups, low group first. */
  uint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError("not an unsigned safe integer");
    this.reserve(8);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
    return this;
  }

  /** A signed integer of at most 52 bits, zigzagged (as protobuf's sint64) so that small negative numbers stay short. */
  int(value: number): this {
    if (!Number.isInteger(value) || Math.abs(value) > MAX_INT) throw new RangeError("not an integer of 52 bits");
    return this.uint(value < 0 ? -value * 2 - 1 : value * 2);
  }

  byte(value: number): this {
    this.reserve(1);
    this.buffer[this.length++] = value & 0xff;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.uint(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  /** Raw bytes without a length (the reader must know how many). */
  fixed(value: Uint8Array): this {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  string(value: string): this {
    const size = Buffer.byteLength(value);
    this.uint(size);
    this.reserve(size);
    this.length += this.buffer.write(value, this.length);
    return this;
  }

  /** The bytes written, in a buffer of their own. */
  finish(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }

  private reserve(size: number): void {
    if (this.length + size <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + size));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

export class ByteReader {
  private offset = 0;

  constructor(private readonly buffer: Uint8Array) {}

  get done(): boolean {
    return this.offset === this.buffer.length;
  }

  uint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 0x80;
      if (scale > Number.MAX_SAFE_INTEGER) throw new RangeError("varint too long");
    }
    if (!Number.isSafeInteger(value)) throw new RangeError("varint too large");
    return value;
  }

  int(): number {
    const zigzag = this.uint();
    return zigzag % 2 === 1 ? -(zigzag + 1) / 2 : zigzag / 2;
  }

  byte(): number {
    const byte = this.buffer[this.offset];
    if (byte === undefined) throw new RangeError("read past the end");
    this.offset += 1;
    return byte;
  }

  fixed(size: number): Uint8Array {
    if (this.offset + size > this.buffer.length) throw new RangeError("read past the end");
    const bytes = this.buffer.subarray(this.offset, this.offset + size);
    this.offset += size;
    return bytes;
  }

  bytes(): Uint8Array {
    return this.fixed(this.uint());
  }

  string(): string {
    const bytes = this.bytes();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  }
}
