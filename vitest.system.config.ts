import { suite } from './vitest.config.js'

/**
 * `npm run test:system`: the tests that start real servers beside the gateway (fleets behind
 * haproxy, hot standbys, PKCS#11 tokens, the partner clients in Python, Java and Go).
 */
export default suite(true)
