/**
 * The alerting rules and the dashboard shipped in docs/deploy/: promtool checks and unit-tests
 * the rules, every dashboard query parses with promtool, and every metric a rule or a panel
 * names is one a running gateway exports at /metrics (Prometheus's own `up` aside).
 */
import { execFile, spawnSync } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js'
import { tempDir } from '../support/keys.js'

const exec = promisify(execFile)
const CI = process.env.CI === 'true'
const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' })
const missing = probe.error ? 'promtool is missing (Debian package prometheus)' : undefined
const RULES_DIR = 'docs/deploy/prometheus'
const RULES = join(RULES_DIR, 'sealed-search.rules.yml')
const DASHBOARD = 'docs/deploy/grafana/sealed-search.json'

/** Every `expr:` of a rule file, single-line or a `|` block. */
export function ruleExpressions(yaml: string): string[] {
  const out: string[] = []
  const lines = yaml.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr: (.*)$/.exec(lines[i]!)
    if (!m) continue
    if (m[2] !== '|') {
      out.push(m[2]!)
      continue
    }
    const block: string[] = []
    const deeper = new RegExp(`^\\s{${m[1]!.length + 1},}\\S`)
    while (i + 1 < lines.length && deeper.test(lines[i + 1]!)) block.push(lines[++i]!.trim())
    out.push(block.join(' '))
  }
  return out
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'])
const OPERATORS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan'])

/** The metric names a PromQL expression reads: identifiers that are not functions or labels. */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '')
  const names = new Set<string>()
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\()?)/g)) {
    const word = m[0]
    if (m[1] || KEYWORDS.has(word) || OPERATORS.has(word.toLowerCase())) continue
    names.add(word)
  }
  return [...names]
}

/** The series names an exposition text offers: each TYPE line, and a histogram's three series. */
function exported(text: string): Set<string> {
  const names = new Set<string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s)
    else names.add(name!)
  }
  return names
}

interface Panel {
  type: string
  title: string
  id: number
  gridPos: { h: number; w: number; x: number; y: number }
  targets?: { refId: string; expr: string }[]
}

/** Grafana's template variables, replaced by values a plain PromQL parser accepts. */
const grafanaless = (expr: string) =>
  expr.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*')

// A missing promtool fails these tests when CI=true, and skips them otherwise.
describe.skipIf(Boolean(missing) && !CI)(
  `alerting rules and dashboard${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    let gateway: GatewayProcess
    let metrics: Set<string>
    let dir: string
    let rules: string
    let recorded: Set<string>
    let dashboard: {
      schemaVersion: number
      uid: string
      title: string
      panels: Panel[]
      templating: { list: { name: string }[] }
    }

    beforeAll(async () => {
      dir = await tempDir('sealed-monitoring-')
      rules = await readFile(RULES, 'utf8')
      recorded = new Set([...rules.matchAll(/^\s*- record: (\S+)$/gm)].map((m) => m[1]!))
      dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8'))
      gateway = await startGatewayProcess({
        LEGACY_HASH_ENABLED: 'true',
        LEGACY_HASH_SUNSET: '2027-06-30',
      })
      metrics = exported(await (await fetch(`${gateway.url}/metrics`)).text())
    }, 120_000)
    afterAll(async () => {
      await gateway?.stop()
      await rm(dir, { recursive: true, force: true })
    })

    it('passes promtool check rules', async () => {
      const { stdout } = await exec('promtool', ['check', 'rules', RULES])
      expect(stdout).toMatch(/SUCCESS: \d+ rules found/)
    })

    it('passes its promtool unit tests, one that fires and one that does not per alert', async () => {
      const { stdout } = await exec('promtool', ['test', 'rules', 'sealed-search.test.yml'], {
        cwd: RULES_DIR,
      })
      expect(stdout).toContain('SUCCESS')
      const tests = await readFile(join(RULES_DIR, 'sealed-search.test.yml'), 'utf8')
      const alerts = [...rules.matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1]!)
      expect(alerts.length).toBeGreaterThanOrEqual(10)
      for (const alert of alerts) {
        expect(tests, alert).toMatch(new RegExp(`alertname: ${alert}\\n`))
      }
    })

    it('gives every alert a runbook and a severity', () => {
      const blocks = rules.split(/\n\s*- alert: /).slice(1)
      for (const block of blocks) {
        expect(block, block.split('\n')[0]).toMatch(/\n\s+runbook: \S/)
        expect(block, block.split('\n')[0]).toMatch(/\n\s+severity: (critical|warning)\n/)
      }
    })

    it('names only metrics the gateway exports, in rules and in panels', () => {
      const exprs = [
        ...ruleExpressions(rules),
        ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => grafanaless(t.expr))),
      ]
      expect(ruleExpressions(rules)).toHaveLength(rules.match(/^\s*- (?:alert|record): /gm)!.length)
      expect(ruleExpressions(rules).every((e) => /^\S/.test(e) && e !== '|')).toBe(true)
      expect(exprs.length).toBeGreaterThan(20)
      const named = new Set(exprs.flatMap(metricNames))
      expect(named).toContain('sealed_search_key_ring_version')
      const unknown = [...named].filter((n) => !metrics.has(n) && !recorded.has(n) && n !== 'up')
      expect(unknown).toEqual([])
    })

    it('is a dashboard of the schema version it declares, whose every query parses', async () => {
      expect(dashboard.schemaVersion).toBe(39)
      expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/)
      expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'instance'])
      const ids = dashboard.panels.map((p) => p.id)
      expect(new Set(ids).size).toBe(ids.length)
      for (const p of dashboard.panels) {
        expect(['row', 'timeseries', 'stat', 'table']).toContain(p.type)
        expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24)
        if (p.type !== 'row') expect(p.targets?.length, p.title).toBeGreaterThan(0)
      }
      const targets = dashboard.panels.flatMap((p) => p.targets ?? [])
      const file = join(dir, 'panels.rules.yml')
      const records = targets.map(
        (t, i) =>
          `      - record: panel:${i}\n        expr: ${JSON.stringify(grafanaless(t.expr))}`,
      )
      await writeFile(file, `groups:\n  - name: panels\n    rules:\n${records.join('\n')}\n`)
      const { stdout } = await exec('promtool', ['check', 'rules', file])
      expect(stdout).toContain(`SUCCESS: ${targets.length} rules found`)
    })

    it('finds the metric names of an expression, and promtool refuses a broken one', async () => {
      expect(
        metricNames('sum by (job, kid) (rate(a_total{x="y"}[5m])) / on (job) group_left b'),
      ).toEqual(['a_total', 'b'])
      const file = join(dir, 'broken.rules.yml')
      await writeFile(
        file,
        'groups:\n  - name: x\n    rules:\n      - record: y\n        expr: sum(\n',
      )
      await expect(exec('promtool', ['check', 'rules', file])).rejects.toThrow()
    })
  },
)
