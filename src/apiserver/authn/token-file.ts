// --token-auth-file (k8s apiserver authentication/token/tokenfile): a CSV of `token,user,uid[,"group1,group2"]`,
// read once at start. CIS 1.2.2 wants it unset; it exists for tests and emergencies.
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../lib/log.js';
import type { UserInfo } from '../authz/interface.js';
import { audienceAgnostic, type TokenAuthenticator } from './interface.js';

/** Splits one CSV record as Go's encoding/csv does with TrimLeadingSpace: quoted fields, `""` an escaped quote. */
export function parseCSVLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new Error('extraneous or missing " in quoted-field');
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ',') throw new Error('extraneous or missing " in quoted-field');
    } else {
      const end = line.indexOf(',', i);
      field = end < 0 ? line.slice(i) : line.slice(i, end);
      i = end < 0 ? line.length : end;
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

/** Parses the file's text; throws naming the line for a record with fewer than 3 columns. */
export function parseTokenFile(text: string, file: string, log: Logger): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let record: string[];
    try {
      record = parseCSVLine(line);
    } catch (err) {
      throw new Error(`token file '${file}' line ${i + 1}: ${(err as Error).message}`);
    }
    if (record.length < 3)
      throw new Error(
        `token file '${file}' must have at least 3 columns (token, user name, user uid), found ${record.length}`
      );
    const [token, name, uid, groups] = record as [string, string, string, string?];
    if (!token) {
      log.warn({ file, line: i + 1 }, 'skipping a token file line with an empty token');
      return;
    }
    if (tokens.has(token)) log.warn({ file, line: i + 1 }, 'duplicate token in the token file; the last one wins');
    const user: UserInfo = { name, uid, groups: groups !== undefined ? groups.split(',') : [] };
    tokens.set(token, user);
  });
  return tokens;
}

export async function loadTokenFile(file: string, log: Logger): Promise<Map<string, UserInfo>> {
  return parseTokenFile(await readFile(file, 'utf8'), file, log);
}

/** Static tokens: an unknown token is not ours (another authenticator may know it). */
export function tokenFileAuthenticator(tokens: ReadonlyMap<string, UserInfo>): TokenAuthenticator {
  return audienceAgnostic(async (token) => {
    const user = tokens.get(token);
    return user ? { ...user, groups: [...user.groups] } : null;
  });
}
