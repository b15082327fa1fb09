import { Readable } from 'node:stream';
import { type Chunk, type LineReaderOptions, LineSplitter, readLines } from '../../../../core/drift/readers/jsonl';

interface Collected {
  lines: Array<[number, string]>;
  overlong: Array<[number, number]>;
}

function split(chunks: Chunk[], options?: LineReaderOptions): Collected {
  const out: Collected = { lines: [], overlong: [] };
  const splitter = new LineSplitter(options);
  const sink = {
    line: (text: string, n: number) => out.lines.push([n, text]),
    overlong: (n: number, length: number) => out.overlong.push([n, length]),
  };
  for (const chunk of chunks) splitter.push(chunk, sink);
  splitter.end(sink);
  return out;
}

const texts = (c: Collected) => c.lines.map(([, t]) => t);

describe('LineSplitter', () => {
  it('splits on \\n and \\r\\n, keeps a final line without terminator, numbers physical lines', () => {
    const c = split(['a\nb\r\n\n  \nc\r\n\r\nd']);
    expect(c.lines).toEqual([
      [1, 'a'],
      [2, 'b'],
      [5, 'c'],
      [7, 'd'],
    ]);
    expect(c.overlong).toEqual([]);
  });

  it('skips empty and whitespace-only lines but keeps inner whitespace', () => {
    expect(texts(split(['\n\n \t \n x y \n\r\n']))).toEqual([' x y ']);
  });

  it('strips a UTF-8 byte-order mark at the start of the stream only', () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const c = split([Buffer.concat([bom, Buffer.from('{"a":1}\n\uFEFFx\n')])]);
    expect(texts(c)).toEqual(['{"a":1}', '\uFEFFx']);
    // BOM split across chunks
    expect(texts(split([bom.subarray(0, 1), bom.subarray(1), Buffer.from('z')]))).toEqual(['z']);
  });

  it('handles an empty source and a source of only newlines', () => {
    expect(split([]).lines).toEqual([]);
    expect(split(['']).lines).toEqual([]);
    expect(split(['\n\n\r\n']).lines).toEqual([]);
  });

  it('reassembles UTF-8 split at every byte offset (2 and 3 chunks)', () => {
    const text = 'é€𝄞\r\n{"k":"日本語"}\n\nlast 🙂';
    const bytes = Buffer.from(text, 'utf8');
    const expected = split([text]);
    expect(texts(expected)).toEqual(['é€𝄞', '{"k":"日本語"}', 'last 🙂']);
    for (let i = 0; i <= bytes.length; i++) {
      expect(split([bytes.subarray(0, i), bytes.subarray(i)])).toEqual(expected);
      for (let j = i; j <= bytes.length; j++) {
        expect(split([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)])).toEqual(expected);
      }
    }
    expect(split([...bytes].map((b) => Uint8Array.of(b)))).toEqual(expected);
  });

  it('accepts string chunks split anywhere, including between \\r and \\n', () => {
    const text = 'ab\r\ncd\r\n';
    for (let i = 0; i <= text.length; i++) {
      expect(texts(split([text.slice(0, i), text.slice(i)]))).toEqual(['ab', 'cd']);
    }
  });

  describe('maxLineLength', () => {
    it('accepts a line of exactly the maximum and reports one character more as overlong', () => {
      const c = split(['12345\n123456\r\nok\n'], { maxLineLength: 5 });
      expect(c.lines).toEqual([
        [1, '12345'],
        [3, 'ok'],
      ]);
      expect(c.overlong).toEqual([[2, 6]]);
    });

    it('does not count the \\r of \\r\\n against the maximum, even across chunks', () => {
      for (const chunks of [['12345\r\n'], ['12345\r', '\n'], ['12345', '\r\n'], ['123', '45\r', '\nx']]) {
        const c = split(chunks, { maxLineLength: 5 });
        expect(c.overlong).toEqual([]);
        expect(texts(c)[0]).toBe('12345');
      }
    });

    it('skips an overlong line spread over many chunks and resumes at the next line', () => {
      const long = 'x'.repeat(100);
      const chunks = ['first\n', ...long.match(/.{1,7}/g)!, '\nsecond\n', 'y'.repeat(30), '\nthird'];
      const c = split(chunks, { maxLineLength: 10 });
      expect(c.lines).toEqual([
        [1, 'first'],
        [3, 'second'],
        [5, 'third'],
      ]);
      expect(c.overlong.map(([n]) => n)).toEqual([2, 4]);
      expect(c.overlong[0][1]).toBeGreaterThan(10);
    });

    it('reports an overlong final line without terminator', () => {
      expect(split(['ok\n', 'z'.repeat(50)], { maxLineLength: 10 }).overlong).toEqual([[2, 50]]);
      expect(split(['ok\n', 'z'.repeat(5), 'z'.repeat(50)], { maxLineLength: 10 }).overlong).toEqual([[2, 55]]);
    });

    it('never buffers more than the maximum (+1 for a pending \\r) of an unterminated line', () => {
      const splitter = new LineSplitter({ maxLineLength: 1024 });
      const sink = { line: jest.fn(), overlong: jest.fn() };
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let maxBuffered = 0;
      for (let i = 0; i < 160; i++) {
        splitter.push(chunk, sink); // 10 MiB without a newline
        maxBuffered = Math.max(maxBuffered, splitter.bufferedLength);
      }
      splitter.push('\nnext\n', sink);
      splitter.end(sink);
      expect(maxBuffered).toBeLessThanOrEqual(1025);
      expect(sink.overlong).toHaveBeenCalledTimes(1);
      expect(sink.overlong.mock.calls[0][1]).toBe(160 * 64 * 1024);
      expect(sink.line.mock.calls).toEqual([['next', 2]]);
    });
  });

  it('rejects an invalid maximum and pushes after end()', () => {
    expect(() => new LineSplitter({ maxLineLength: 0 })).toThrow(RangeError);
    const splitter = new LineSplitter();
    const sink = { line: jest.fn(), overlong: jest.fn() };
    splitter.end(sink);
    splitter.end(sink); // idempotent
    expect(() => splitter.push('x', sink)).toThrow(/after end/);
  });

  it('counts lines seen, blank ones included', () => {
    const splitter = new LineSplitter();
    const sink = { line: jest.fn(), overlong: jest.fn() };
    splitter.push('a\n\nb\n', sink);
    splitter.end(sink);
    expect(splitter.linesSeen).toBe(3);
  });
});

describe('readLines', () => {
  async function all(iterable: AsyncIterable<string>): Promise<string[]> {
    const out: string[] = [];
    for await (const line of iterable) out.push(line);
    return out;
  }

  it('reads a Node Readable of Buffers', async () => {
    const source = Readable.from([Buffer.from('{"a":1}\r\n{"b":'), Buffer.from('2}\n\n{"c":3}')]);
    expect(await all(readLines(source))).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('reads a whole string, a whole Buffer, and an iterable of strings', async () => {
    expect(await all(readLines('x\ny'))).toEqual(['x', 'y']);
    expect(await all(readLines(Buffer.from('x\ny\n')))).toEqual(['x', 'y']);
    expect(await all(readLines(['x', '\ny']))).toEqual(['x', 'y']);
  });

  it('reports overlong lines through onOverlong', async () => {
    const onOverlong = jest.fn();
    expect(await all(readLines('short\n' + 'l'.repeat(20) + '\nend', { maxLineLength: 8, onOverlong }))).toEqual([
      'short',
      'end',
    ]);
    expect(onOverlong).toHaveBeenCalledWith(2, 20);
  });

  it('propagates errors of the source stream', async () => {
    const source = new Readable({
      read() {
        this.destroy(new Error('network reset'));
      },
    });
    await expect(all(readLines(source))).rejects.toThrow('network reset');
  });
});
