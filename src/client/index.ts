export * from './jwe.js'
export * from './jwks.js'
export * from './url.js'
