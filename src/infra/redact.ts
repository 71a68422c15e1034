/**
 * Last line of defence for logs: whatever a record holds, these never leave the process. The
 * app does not put secrets in records on purpose; this catches the ones that slip in through an
 * error message or a library.
 */
const VALUE_PATTERNS: [RegExp, string][] = [
  [/eyJ[\w-]*\.[\w-]+\.[\w-]*/g, '[redacted-jwt]'],
  [
    /\b(accesskey|accountkey|sharedaccesskey|sharedaccesssignature|sig|code|password|pwd|secret)=[^;&\s"',]+/gi,
    '$1=[redacted]',
  ],
  [/\b(Bearer|HMAC-SHA256|Basic)\s+[^\s"',]+/g, '$1 [redacted]'],
  [/\b(AppServiceAuthSession|StaticWebAppsAuthCookie)=[^;\s"',]+/gi, '$1=[redacted]'],
];

/** Field names whose values are never logged, whatever they hold. */
const SECRET_FIELD =
  /token|key|secret|password|cookie|authorization|principal|connection|signature/i;

export function redactText(text: string): string {
  return VALUE_PATTERNS.reduce(
    (out, [pattern, replacement]) => out.replace(pattern, replacement),
    text,
  );
}

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    out[name] = SECRET_FIELD.test(name) ? '[redacted]' : redact(field, depth + 1);
  }
  return out;
}
