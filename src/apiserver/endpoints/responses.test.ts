import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import type { RequestContext, Request, Response } from '../context.js';
import { resolveRequestInfo } from '../request-info.js';
import { sharedJSON, writeList } from './responses.js';

/** What writeList wrote: status, headers and the body (gunzipped when gzip was used). */
function capture(acceptEncoding?: string): {
  req: Request;
  res: Response;
  ctx: RequestContext;
  written: () => { code: number; headers: Record<string, string>; body: string };
} {
  let code = 0;
  let headers: Record<string, string> = {};
  let body: Buffer = Buffer.alloc(0);
  const res = {
    writeHead: (c: number, h: Record<string, string>) => ((code = c), (headers = h)),
    end: (b?: Buffer) => void (body = b ?? body),
  } as unknown as Response;
  const req = { method: 'GET', headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {} } as Request;
  const url = new URL('https://apiserver/api/v1/pods');
  const ctx: RequestContext = {
    url,
    requestInfo: resolveRequestInfo('GET', url),
    signal: new AbortController().signal,
    warnings: [],
    startTime: 0n,
  };
  return {
    req,
    res,
    ctx,
    written: () => ({
      code,
      headers,
      body: (headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8'),
    }),
  };
}

test('writeList - writes exactly what JSON.stringify of the whole list would, also gzipped and empty', () => {
  const head = { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '7', continue: 'x"y' } };
  const many = Array.from({ length: 300 }, (_, i) => ({
    metadata: { name: `p-${i}`, labels: { ünï: 'cödé\u2028' } },
    spec: { n: i, absent: undefined, list: [1, null, 'a'] },
  }));
  for (const [items, encoding] of [
    [[], undefined],
    [many.slice(0, 1), undefined],
    [many, undefined],
    [many, 'gzip'],
  ] as const) {
    const w = capture(encoding);
    writeList(w.ctx, w.req, w.res, 200, head, items);
    const out = w.written();
    assert.equal(out.code, 200);
    assert.equal(out.body, JSON.stringify({ ...head, items }));
    assert.equal(out.headers['content-encoding'], encoding);
  }
});

test('sharedJSON - one encoding per object, reused while the object lives', () => {
  const obj = { metadata: { name: 'a' } };
  assert.equal(sharedJSON(obj), sharedJSON(obj));
  assert.equal(sharedJSON(obj).toString(), JSON.stringify(obj));
  assert.notEqual(sharedJSON({ metadata: { name: 'a' } }), sharedJSON(obj));
});
