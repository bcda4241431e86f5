import { stat } from 'node:fs/promises'
import { KeyStoreError } from '../errors.js'

/**
 * A key directory that must already exist (a gateway that does not generate keys, and the
 * commands that read one): missing, not a directory or unreadable is one error that names it,
 * the setting that chose it and how to make one, instead of an empty listing or a raw ENOENT.
 */
export async function requireKeyDirectory(
  dir: string,
  setting = 'KEYS_DIR or --dir',
): Promise<void> {
  const found = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    const why = error.code === 'ENOENT' ? 'does not exist' : `cannot be read (${error.code})`
    throw new KeyStoreError(
      'ERR_KEYS_DIR_MISSING',
      `key directory ${dir} ${why} (${setting}); npm run keys -- generate makes one`,
      { cause: error },
    )
  })
  if (!found.isDirectory()) {
    throw new KeyStoreError(
      'ERR_KEYS_DIR_MISSING',
      `key directory ${dir} is not a directory (${setting})`,
    )
  }
}
