/**
 * Which access-log format a line is in. The scan itself reads the whole line whatever its format
 * (a token or an identifier may sit in the request, the referrer or the user agent); the format is
 * counted so that a report shows what was read, and lines of no known format stand out.
 */
export const LOG_FORMATS = ['json', 'combined', 'common', 'alb', 'other'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

/** ALB: type, ISO time, ELB name, ... (AWS "Access log entries", Syntax). */
const ALB = /^(?:https?|h2|grpcs?|wss?) \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/
/** CLF: host ident authuser [date] "request" status bytes (Apache mod_log_config, nginx, haproxy). */
const COMMON = /^\S+ \S+ \S+ \[[^\]]{10,40}\] "[^"]*" \d{3} (?:\d+|-)/
/** Combined: CLF, then "referer" "user-agent". */
const COMBINED = /^\S+ \S+ \S+ \[[^\]]{10,40}\] "[^"]*" \d{3} (?:\d+|-) "[^"]*" "/

export function lineFormat(line: string): LogFormat {
  const first = line.charCodeAt(0)
  if (first === 0x7b /* { */) return 'json'
  if (ALB.test(line)) return 'alb'
  if (COMBINED.test(line)) return 'combined'
  if (COMMON.test(line)) return 'common'
  return 'other'
}
