/** One line of `keys doctor`: what it found, and how bad it is. */
export interface Finding {
  level: 'error' | 'warning' | 'ok'
  message: string
}
