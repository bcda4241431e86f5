/**
 * Runs before each test file (vitest setupFiles). Its afterAll is registered first, so it runs
 * after the file's own (stopped servers no longer hold the files it removes).
 */
import { afterAll } from 'vitest'
import { removeTempDirs } from './temp.js'

afterAll(removeTempDirs)
