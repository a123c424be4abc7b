// Minimal multipart/form-data parser for the fake OpenAI server (tests only).
// Good enough for what undici's FormData encoder produces; not a general-purpose parser.

export interface MultipartFile {
  name: string;
  filename: string;
  contentType: string;
  size: number;
}

export interface MultipartBody {
  fields: Record<string, string>;
  files: MultipartFile[];
}

/** Extracts the boundary from a `multipart/form-data; boundary=...` content-type, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data/i.test(contentType)) return undefined;
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

function parsePartHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

function dispositionParam(disposition: string, param: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${param}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(disposition);
  if (m) return m[1]!.replace(/\\(.)/g, '$1');
  const bare = new RegExp(`(?:^|;)\\s*${param}=([^;\\s]+)`, 'i').exec(disposition);
  return bare?.[1];
}

export function parseMultipart(body: Buffer, boundary: string): MultipartBody {
  const result: MultipartBody = { fields: {}, files: [] };
  const delimiter = Buffer.from(`--${boundary}`);
  const nextDelimiter = Buffer.from(`\r\n--${boundary}`);
  let pos = body.indexOf(delimiter);
  while (pos !== -1) {
    let start = pos + delimiter.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // "--" → closing delimiter
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
    const end = body.indexOf(nextDelimiter, start);
    if (end === -1) break;
    const part = body.subarray(start, end);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = parsePartHeaders(part.subarray(0, headerEnd).toString('utf8'));
      const content = part.subarray(headerEnd + 4);
      const disposition = headers['content-disposition'] ?? '';
      const name = dispositionParam(disposition, 'name') ?? '';
      const filename = dispositionParam(disposition, 'filename');
      if (filename !== undefined) {
        result.files.push({
          name,
          filename,
          contentType: headers['content-type'] ?? 'application/octet-stream',
          size: content.length,
        });
      } else {
        result.fields[name] = content.toString('utf8');
      }
    }
    pos = end + 2; // skip the CRLF that precedes the next delimiter
  }
  return result;
}
