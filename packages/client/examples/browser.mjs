// A page's script, bundled for the browser (esbuild, Vite, webpack...): encrypts in the page,
// so the identifier leaves it only as ciphertext. `gateway` is the gateway's base URL; the
// gateway (or a proxy in front of it) must allow the page's origin (CORS).
import { chooseKey, encryptMbi, fetchJwks, patientSearchUrl } from '@sealed-search/client'

export async function searchByMbi(gateway, mbi, { format = 'hpke', crv = 'X25519' } = {}) {
  const key = chooseKey(await fetchJwks(`${gateway}/.well-known/jwks.json`), crv, { format })
  const token = await encryptMbi(mbi, key, { format, ttlSeconds: 300 })
  const res = await fetch(patientSearchUrl(gateway, token))
  return res.json()
}
