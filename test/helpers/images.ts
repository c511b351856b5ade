// Sessions with inline images, for the binaries that find them (rollout-du, rollout-slim): the
// images are made here, different per seed and the same every run, so a test can name their bytes.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

/** `n` bytes that look random and are the same for the same seed. */
export function noise(n: number, seed: string): Buffer {
  const out = Buffer.alloc(n);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < n; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** A data URL of an image whose bytes are `n` long. */
export const screenshot = (n: number, seed: string): string => `data:image/png;base64,${noise(n, seed).toString('base64')}`;

/** The lines with `image` attached to the user message that says `said` (its response item). */
export function attach(lines: string[], said: string, image: string): string[] {
  const text = `{"type":"input_text","text":"${said}"}`;
  return lines.map((l) => (l.includes('"role":"user"') && l.includes(text) ? l.replace(text, `${text},{"type":"input_image","image_url":"${image}"}`) : l));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (b: Buffer) => {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** A real PNG file of `side` x `side` RGB noise (noise does not compress: about 3 bytes a pixel). */
export function noisyPng(side: number, seed: string): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const pixels = noise(side * side * 3, seed);
  const rows = Array.from({ length: side }, (_, y) => Buffer.concat([Buffer.from([0]), pixels.subarray(y * side * 3, (y + 1) * side * 3)]));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
