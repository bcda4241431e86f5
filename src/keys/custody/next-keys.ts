import type { KeyEntry } from '../stores/key-store.js'
import { inPublishingOrder, lacksNextKey } from '../stores/key-role.js'
import type { Finding } from './finding.js'

/**
 * `doctor`'s view of each published curve's current and next key (key-role.ts): a curve without a
 * next key is a warning, since revoking its current key would leave partners of that curve
 * without a key for the publish delay.
 */
export function nextKeyFindings(entries: readonly KeyEntry[], now: Date): Finding[] {
  const published = inPublishingOrder(entries, now)
  const curves = [...new Set(published.map((k) => k.crv))].sort()
  return curves.map((crv): Finding => {
    const [current, ...next] = published.filter((k) => k.crv === crv)
    if (!lacksNextKey(entries, crv, now)) {
      const staged = next.length ? next.map((k) => k.kid).join(', ') : 'staged (pending)'
      return { level: 'ok', message: `${crv}: current key ${current!.kid}, next key ${staged}` }
    }
    return {
      level: 'warning',
      message: `${crv}: current key ${current!.kid} has no next key: revoking it would leave ${crv} partners without a key; run: npm run keys -- generate --curve ${crv}`,
    }
  })
}
