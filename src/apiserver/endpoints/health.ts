// /healthz, /livez, /readyz with named checks, `?verbose`, `?exclude=`, and /readyz/<check> (upstream healthz).
import type { RequestContext, Request, Response } from '../context.js';

export interface HealthCheck {
  name: string;
  /** Resolves when healthy; rejects (or returns a message) when not. */
  check(): Promise<void>;
}

export class Health {
  constructor(private readonly checks: { healthz: HealthCheck[]; livez: HealthCheck[]; readyz: HealthCheck[] }) {}

  async serve(ctx: RequestContext, req: Request, res: Response): Promise<boolean> {
    const m = /^\/(healthz|livez|readyz)(?:\/(.+))?$/.exec(ctx.url.pathname);
    if (!m) return false;
    const kind = m[1] as 'healthz' | 'livez' | 'readyz';
    const only = m[2];
    const exclude = new Set(ctx.url.searchParams.getAll('exclude'));
    let checks = this.checks[kind].filter((c) => !exclude.has(c.name));
    if (only) {
      checks = checks.filter((c) => c.name === only);
      if (checks.length === 0) return false;
    }
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          await c.check();
          return { name: c.name, ok: true };
        } catch {
          return { name: c.name, ok: false };
        }
      })
    );
    const ok = results.every((r) => r.ok);
    const verbose = ctx.url.searchParams.has('verbose') || !ok;
    let body: string;
    if (verbose) {
      // Failure reasons are withheld from the client, as upstream does; the log has them.
      body = results.map((r) => (r.ok ? `[+]${r.name} ok` : `[-]${r.name} failed: reason withheld`)).join('\n');
      body += `\n${only ?? kind} check ${ok ? 'passed' : 'failed'}\n`;
    } else body = 'ok';
    ctx.statusCode = ok ? 200 : 500;
    res.writeHead(ctx.statusCode, {
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache, private',
    });
    res.end(body);
    return true;
  }
}
