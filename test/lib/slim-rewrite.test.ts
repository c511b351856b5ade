// Slimming a session's bytes and putting them back: markers where blobs were, every other byte as it
// was, and a restore that gives the original bytes back whatever the chunks.
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import t from 'tap';
import { DEFAULT_RULES, type BlobRules } from '../../lib/slim/blobs.js';
import { markerBytes, parseMarker, PNG_HEAD_B64, type Marker } from '../../lib/core/blob-marker.js';
import { restoreChunks } from '../../lib/slim/restore.js';
import { slimChunks, type BlobSink } from '../../lib/slim/rewrite.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A sink in memory, counting what it was given. */
class MemorySink implements BlobSink {
  objects = new Map<string, Buffer>();
  writes = 0;
  begin() {
    const parts: Buffer[] = [];
    return {
      write: (b: Buffer) => void parts.push(Buffer.from(b)),
      finish: async () => {
        const all = Buffer.concat(parts);
        const name = sha(all);
        this.writes++;
        this.objects.set(name, all);
        return { sha256: name, bytes: all.length };
      },
    };
  }
  async *read(name: string) {
    yield this.objects.get(name)!;
  }
  async *readVerified(name: string, bytes: number) {
    const b = this.objects.get(name);
    if (!b || b.length !== bytes || sha(b) !== name) throw new Error(`object ${name} is missing or damaged`);
    yield b;
  }
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of chunks) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

async function* pieces(b: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < b.length; i += size) yield Buffer.from(b.subarray(i, i + size));
}

async function slim(input: Buffer, size: number, rules: BlobRules = DEFAULT_RULES, sink = new MemorySink()) {
  const s = slimChunks(pieces(input, size), sink, rules);
  const out = await collect(s.chunks);
  return { out, result: s.result(), sink };
}

async function restore(input: Buffer, sink: MemorySink, size: number) {
  const r = restoreChunks(pieces(input, size), sink);
  return { out: await collect(r.chunks), result: r.result() };
}

/** Base64 of `n` bytes that starts like a PNG file. */
const pngB64 = (n: number, seed = 1) => {
  const b = Buffer.alloc(n);
  Buffer.from('89504e470d0a1a0a', 'hex').copy(b);
  for (let i = 8; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b.toString('base64');
};
const dataUrl = (n: number, seed = 1, media = 'image/png') => `data:${media};base64,${pngB64(n, seed)}`;

const at = '"timestamp":"2026-08-21T09:12:40.121Z"';
const userImage = (url: string, extra = '') =>
  `{${at},"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_text","text":"<image name=[Image #1] path=\\"pic.png\\">"},{"type":"input_image","image_url":${JSON.stringify(url)}${extra}},{"type":"input_text","text":"</image>"}]}}`;
const toolImage = (url: string, text = 'ok') =>
  `{${at},"type":"response_item","payload":{"type":"function_call_output","call_id":"c1","output":[{"type":"input_text","text":${JSON.stringify(text)}},{"type":"input_image","image_url":${JSON.stringify(url)},"detail":"high"}]}}`;
const userEvent = (urls: string[]) =>
  `{${at},"type":"event_msg","payload":{"type":"user_message","message":"what is \\"this\\"?\\n","images":${JSON.stringify(urls)},"local_images":[],"text_elements":[]}}`;
const generated = (b64: string) =>
  `{${at},"type":"response_item","payload":{"type":"image_generation_call","id":"ig_1","status":"completed","result":"${b64}"}}`;
const call = (args: unknown) =>
  `{${at},"type":"response_item","payload":{"type":"function_call","name":"show","arguments":${JSON.stringify(JSON.stringify(args))},"call_id":"c1"}}`;
const toolText = (text: string) => `{${at},"type":"response_item","payload":{"type":"function_call_output","call_id":"c2","output":${JSON.stringify(text)}}}`;

const SIZES = [7, 333, 4096, 1 << 20];

t.test('the marker: one form per place, read back exactly, valid where it stands', async (t) => {
  const info = { kind: 'image' as const, media: 'image/jpeg', bytes: 123456, sha256: sha('x') };
  for (const form of ['data-url', 'base64', 'text'] as const) {
    const m: Marker = { ...info, form, kind: form === 'text' ? 'tool-output' : 'image' };
    const bytes = markerBytes(m);
    t.equal(JSON.stringify(bytes.toString()), `"${bytes.toString()}"`, `${form}: nothing in it needs a JSON escape`);
    const line = Buffer.from(`{"x":"${bytes.toString()}"}`);
    t.same(parseMarker(line, 6, line.length - 2), m, `${form}: read back`);
    t.equal(parseMarker(line, 6, line.length - 3), null, `${form}: a cut marker is not one`);
  }
  const png = Buffer.from(markerBytes({ ...info, form: 'base64' }).toString(), 'base64');
  t.same(png.subarray(0, 8), Buffer.from('89504e470d0a1a0a', 'hex'), 'a PNG');
  // Every chunk's CRC holds, and the pixel inflates: a decoder takes it.
  const crcOk: boolean[] = [];
  let idat: Buffer | null = null;
  for (let p = 8; p < png.length;) {
    const len = png.readUInt32BE(p);
    const type = png.toString('latin1', p + 4, p + 8);
    const body = png.subarray(p + 4, p + 8 + len);
    const { crc32 } = await import('node:zlib').then((z) => ({ crc32: (z as unknown as { crc32?: (b: Buffer) => number }).crc32 }));
    if (crc32) crcOk.push(crc32(body) === png.readUInt32BE(p + 8 + len));
    if (type === 'IDAT') idat = png.subarray(p + 8, p + 8 + len);
    if (type === 'tEXt') t.match(body.toString('latin1'), /^tEXtrollout-slim\0\[rollout-slim v1 kind=image media=image\/jpeg bytes=123456 sha256=/);
    p += 12 + len;
  }
  t.ok(crcOk.every(Boolean));
  t.same(inflateSync(idat!), Buffer.from([0, 0xcc]), 'one grey pixel');
  t.ok(
    markerBytes({ ...info, form: 'base64' })
      .subarray(0, PNG_HEAD_B64.length)
      .equals(PNG_HEAD_B64),
    'every image marker starts alike',
  );
});

t.test('images anywhere in a line go, escaped and small ones stay, restore gives the bytes back', async (t) => {
  const big = dataUrl(6000, 1);
  const other = dataUrl(9000, 2, 'image/jpeg');
  const lines = [
    userImage(big, ',"detail":"high"'),
    toolImage(other, 'a \\"quoted\\" \\\\ text "data:image/png;base64,AAAA"'),
    userEvent([big, dataUrl(100, 3)]),
    generated(pngB64(5000, 4)),
    // A data URL inside another string (a call's JSON arguments) is not a value of the line.
    call({ image_url: big }),
    userImage(dataUrl(200, 5)),
  ];
  const input = Buffer.from(lines.join('\n') + '\n');
  for (const size of SIZES) {
    const { out, result, sink } = await slim(input, size);
    const outLines = out.toString().split('\n');
    t.equal(outLines.length, lines.length + 1);
    const parsed = outLines.slice(0, -1).map((l) => JSON.parse(l));
    const url0 = parsed[0].payload.content[1].image_url as string;
    t.match(url0, /^data:image\/png;base64,iVBORw0KGgo/, `${size}: a data URL stays a PNG data URL`);
    t.equal(parsed[0].payload.content[1].detail, 'high');
    t.match(parsed[1].payload.output[1].image_url, /^data:image\/png;base64,/);
    t.equal(parsed[1].payload.output[0].text, 'a \\"quoted\\" \\\\ text "data:image/png;base64,AAAA"');
    t.equal(parsed[2].payload.images[0], url0, 'the same image, the same marker');
    t.equal(parsed[2].payload.images[1], dataUrl(100, 3), 'a small image stays');
    t.match(parsed[3].payload.result, /^iVBORw0KGgo/, 'bare base64 stays bare base64');
    t.equal(outLines[4], lines[4], 'an escaped data URL is left');
    t.equal(outLines[5], lines[5]);
    t.same(
      result.blobs.map((b) => [b.kind, b.media, b.form]),
      [
        ['image', 'image/png', 'data-url'],
        ['image', 'image/jpeg', 'data-url'],
        ['image', 'image/png', 'data-url'],
        ['image', 'image/png', 'base64'],
      ],
    );
    t.equal(sink.objects.size, 3, 'the image met twice is one object');
    t.equal(result.after.sha256, sha(input));
    t.equal(result.output.sha256, sha(out));
    t.equal(result.saved, input.length - out.length);
    for (const b of result.blobs)
      t.same(parseMarker(out, b.at, out.indexOf('"', b.at)), { kind: b.kind, media: b.media, bytes: b.bytes, sha256: b.sha256, form: b.form });
    t.equal(sha(sink.objects.get(result.blobs[0].sha256)!), result.blobs[0].sha256);
    t.equal(sink.objects.get(result.blobs[0].sha256)!.toString(), big, 'the object is the string as it stood');
    // Shifts: each slimmed line's start and how much shorter it became.
    const starts = [0];
    for (const l of lines) starts.push(starts[starts.length - 1] + Buffer.byteLength(l) + 1);
    t.same(
      result.shifts.lines.map(([o]) => o),
      [starts[0], starts[1], starts[2], starts[3]],
    );
    t.equal(result.shifts.apply(starts[4]), Buffer.byteLength(outLines.slice(0, 4).join('\n')) + 1);
    const back = await restore(out, sink, size);
    t.ok(back.out.equals(input), `${size}: restored byte for byte`);
    t.equal(back.result.restored.length, 4);
  }
});

t.test('tool outputs go when asked, as text the model reads', async (t) => {
  const long = 'line of output\n'.repeat(2000);
  const lines = [
    toolText(long),
    toolImage(dataUrl(5000), long),
    toolText('short'),
    userEvent([]),
    `{${at},"type":"event_msg","payload":{"type":"agent_message","output":${JSON.stringify(long)}}}`,
  ];
  const input = Buffer.from(lines.join('\n') + '\n');
  const rules: BlobRules = { kinds: new Set(['image', 'tool-output']), minImage: 4096, minToolOutput: 16384 };
  for (const size of SIZES) {
    const { out, result, sink } = await slim(input, size, rules);
    const parsed = out
      .toString()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    t.match(parsed[0].payload.output, /^\[rollout-slim v1 kind=tool-output media=text\/plain bytes=\d+ sha256=[0-9a-f]{64}\] This output was moved/);
    t.match(parsed[1].payload.output[0].text, /^\[rollout-slim v1 kind=tool-output/);
    t.match(parsed[1].payload.output[1].image_url, /^data:image\/png;base64,/);
    t.equal(parsed[2].payload.output, 'short');
    t.equal(parsed[4].payload.output, long, 'an "output" that is not a tool output stays');
    t.equal(result.blobs.length, 3);
    t.equal(sink.objects.size, 2);
    t.ok((await restore(out, sink, size)).out.equals(input));
  }
  const images = await slim(input, 4096);
  t.same(
    images.result.blobs.map((b) => b.kind),
    ['image'],
    'images only, by default',
  );
  const twice = await slim(images.out, 4096, rules, images.sink);
  const again = await slim(twice.out, 4096, { ...rules, minImage: 10, minToolOutput: 10 }, twice.sink);
  t.equal(again.result.blobs.length, 0, 'a marker is never taken for a blob');
  t.ok((await restore(twice.out, twice.sink, 999)).out.equals(input), 'two slimmings undone by one restore');
});

t.test('BOM, CRLF, blank lines and a torn last line come through as they were', async (t) => {
  const img = dataUrl(5000, 7);
  const torn = userImage(dataUrl(6000, 8)).slice(0, -3);
  const input = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${userImage(img)}\r\n\n  \n${userEvent([img])}\r\n${torn}`)]);
  for (const size of SIZES) {
    const { out, result, sink } = await slim(input, size);
    t.same(out.subarray(0, 3), Buffer.from([0xef, 0xbb, 0xbf]), `${size}: the BOM stays`);
    const text = out.subarray(3).toString();
    t.match(text, /\}\}\r\n\n {2}\n\{/, 'CRLF and blank lines stay');
    t.ok(text.endsWith(torn), 'the torn line is as it was, its image too');
    t.equal(result.blobs.length, 2);
    t.equal(result.shifts.lines.length, 2);
    t.ok((await restore(out, sink, size)).out.equals(input));
  }
  // A string that never closes on its line is not a blob, even past the threshold.
  const open = Buffer.from(`{"a":"${dataUrl(7000)}\n${userImage(img)}\n`);
  const broken = Buffer.from(`{"a":"x","b":"${dataUrl(7000)}\n${userImage(img)}\n`);
  for (const size of SIZES) {
    for (const input of [open, broken]) {
      const { out, result } = await slim(input, size);
      t.equal(result.blobs.length, 1, `${size}: only the sound line is slimmed`);
      t.ok(out.subarray(0, input.indexOf('\n') + 1).equals(input.subarray(0, input.indexOf('\n') + 1)), 'the unclosed string is as it was');
    }
  }
});

t.test('a 50 MB line streams through in little memory', async (t) => {
  const payload = 50 << 20;
  const head = Buffer.from(
    `{${at},"type":"response_item","payload":{"type":"message","role":"user","content":[{"type":"input_image","image_url":"data:image/png;base64,`,
  );
  const tail = Buffer.from(`"}]}}\n${userEvent([])}\n`);
  const block = Buffer.from(pngB64(3 << 18)).subarray(0, 1 << 20);
  // The input, generated as it is read: never whole in memory.
  async function* big(): AsyncGenerator<Buffer> {
    yield head;
    for (let n = 0; n < payload; n += block.length) yield Buffer.from(block);
    yield tail;
  }
  const expected = createHash('sha256');
  for await (const c of big()) expected.update(c);
  const blobHash = createHash('sha256');
  let blobBytes = 0;
  let largest = 0;
  const sink: BlobSink = {
    begin: () => ({
      write: (b) => {
        blobHash.update(b);
        blobBytes += b.length;
        largest = Math.max(largest, b.length);
      },
      finish: async () => ({ sha256: blobHash.digest('hex'), bytes: blobBytes }),
    }),
    read: () => {
      throw new Error('not read back');
    },
  };
  global.gc?.();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const s = slimChunks(big(), sink);
  let outBytes = 0;
  let chunks = 0;
  for await (const c of s.chunks) {
    outBytes += c.length;
    if (++chunks % 8 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  const r = s.result();
  t.equal(r.after.sha256, expected.digest('hex'));
  t.equal(r.blobs.length, 1);
  t.equal(r.blobs[0].bytes, payload + 'data:image/png;base64,'.length);
  t.equal(blobBytes, r.blobs[0].bytes);
  t.ok(outBytes < 2000, 'the line is now short');
  t.ok(largest <= (1 << 20) + 64, 'the blob went to the sink a chunk at a time');
  t.ok(peak - rss0 < 64 << 20, `memory grew by ${((peak - rss0) / 2 ** 20).toFixed(1)} MB`);
});

t.test('keep: nothing before the offset changes (a fork reads those bytes by offset), the rest is slimmed', async (t) => {
  const first = userImage(dataUrl(6000, 1));
  const lines = [first, userImage(dataUrl(7000, 2)), userImage(dataUrl(6000, 1))];
  const input = Buffer.from(lines.join('\n') + '\n');
  const keep = first.length + 1;
  for (const size of SIZES) {
    const sink = new MemorySink();
    const s = slimChunks(pieces(input, size), sink, DEFAULT_RULES, { keep });
    const out = await collect(s.chunks);
    const result = s.result();
    t.equal(out.subarray(0, keep).toString(), first + '\n', `${size}: the kept bytes are as they were`);
    t.equal(result.blobs.length, 2, 'the two images after it go');
    t.ok(result.blobs.every((b) => b.at >= keep));
    t.equal(result.shifts.apply(keep), keep, 'an offset at the end of the kept bytes does not move');
    t.equal((await restore(out, sink, size)).out.toString(), input.toString(), 'restored whole');
  }
});
