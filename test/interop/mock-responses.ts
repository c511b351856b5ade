// A loopback stand-in for the OpenAI Responses API, just enough for the real
// Codex CLI to run turns offline. Written from scratch on node:http.
//
// Codex (custom provider, wire_api = "responses") POSTs to `${base_url}/responses`
// and reads a server-sent event stream. Every reply here is a complete stream:
// response.created, one response.output_item.done per output item, then
// response.completed with usage, which is what ends the turn for Codex.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or the raw text when it is not JSON (undefined when empty). */
  body: any;
}

/** What the mock answers to one model request. */
export type Reply =
  | { text: string }
  | { call: { cmd: string; callId?: string; workdir?: string } }
  | { items: object[] }
  | { httpStatus: number; message?: string }
  /** Start the stream and never finish it, so a client can interrupt a turn mid-flight. */
  | { stall: true };

export type Responder = (req: RecordedRequest, callIndex: number) => Reply | Promise<Reply>;

export interface MockOptions {
  /** Replies consumed in order; when empty (or absent) `respond` decides, else a default text. */
  replies?: Reply[];
  respond?: Responder;
  /** Called with one line for every request to a path the mock does not serve. */
  log?: (line: string) => void;
}

export interface Mock {
  url: string;
  port: number;
  /** Every request received, in order (model calls and probes alike). */
  requests: RecordedRequest[];
  /** Only the model calls (POST .../responses). */
  responses(): RecordedRequest[];
  /** Append replies to the queue while the mock runs. */
  enqueue(...replies: Reply[]): void;
  close(): Promise<void>;
}

export async function startMock(opts: MockOptions = {}): Promise<Mock> {
  const queue = [...(opts.replies ?? [])];
  const requests: RecordedRequest[] = [];
  const log = opts.log ?? ((line: string) => process.stderr.write(`[mock-responses] ${line}\n`));
  let modelCalls = 0;

  const nextReply = async (req: RecordedRequest, index: number): Promise<Reply> => {
    const queued = queue.shift();
    if (queued) return queued;
    if (opts.respond) return opts.respond(req, index);
    return { text: `mock reply ${index}` };
  };

  const server = http.createServer((req, res) => {
    readBody(req)
      .then(async (raw) => {
        const rec: RecordedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: parseBody(raw),
        };
        requests.push(rec);
        const path = rec.path.split('?')[0];
        if (rec.method === 'POST' && path.endsWith('/responses')) {
          const index = modelCalls++;
          writeReply(res, await nextReply(rec, index), index);
        } else if (rec.method === 'HEAD' && path.endsWith('/responses')) {
          // `codex doctor` probes reachability this way; any HTTP answer counts as reachable.
          res.writeHead(405, { allow: 'POST' }).end();
        } else if (rec.method === 'GET' && path.endsWith('/models')) {
          // `codex doctor` fetches the model list; an empty one satisfies it.
          sendJson(res, 200, { object: 'list', data: [], models: [] });
        } else {
          log(`unhandled ${rec.method} ${rec.path}`);
          sendJson(res, 404, { error: { message: `mock has no ${rec.method} ${path}` } });
        }
      })
      .catch((err) => {
        log(`error: ${err instanceof Error ? err.stack : String(err)}`);
        if (!res.headersSent) sendJson(res, 500, { error: { message: String(err) } });
        else res.end();
      });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    responses: () => requests.filter((r) => r.method === 'POST' && r.path.split('?')[0].endsWith('/responses')),
    enqueue: (...replies) => void queue.push(...replies),
    close: () =>
      new Promise<void>((resolve) => {
        // Codex keeps HTTP connections alive; without this close() would wait for them.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function writeReply(res: http.ServerResponse, reply: Reply, n: number): void {
  if ('httpStatus' in reply) {
    sendJson(res, reply.httpStatus, { error: { message: reply.message ?? 'mock error', type: 'mock_error' } });
    return;
  }
  const responseId = `resp_mock_${n}`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  send('response.created', { response: { id: responseId } });
  if ('stall' in reply) return;
  outputItems(reply, n).forEach((item, i) => send('response.output_item.done', { output_index: i, item }));
  send('response.completed', { response: { id: responseId, usage: usage(n) } });
  res.end();
}

function outputItems(reply: Exclude<Reply, { httpStatus: number } | { stall: true }>, n: number): object[] {
  if ('items' in reply) return reply.items;
  if ('text' in reply) {
    return [
      {
        type: 'message',
        role: 'assistant',
        id: `msg_mock_${n}`,
        status: 'completed',
        content: [{ type: 'output_text', text: reply.text, annotations: [] }],
      },
    ];
  }
  const args: Record<string, string> = { cmd: reply.call.cmd };
  if (reply.call.workdir) args.workdir = reply.call.workdir;
  return [
    {
      type: 'function_call',
      id: `fc_mock_${n}`,
      status: 'completed',
      name: 'exec_command',
      arguments: JSON.stringify(args),
      call_id: reply.call.callId ?? `call_mock_${n}`,
    },
  ];
}

// Distinct, deterministic numbers per response so token accounting is checkable.
function usage(n: number) {
  const input = 1000 + n;
  const output = 10 + n;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

/** The user-authored texts of a Responses API request body's `input` (contextual fragments included). */
export function userTexts(body: any): string[] {
  const input: any[] = Array.isArray(body?.input) ? body.input : [];
  return input
    .filter((item) => item?.type === 'message' && item.role === 'user')
    .flatMap((item) => (item.content ?? []).filter((c: any) => c?.type === 'input_text').map((c: any) => c.text as string));
}
