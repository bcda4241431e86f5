/**
 * The Python, Go and Java partner clients against a real gateway process after an emergency
 * revocation: each starts from a JWKS fetched before it (the revoked current key and the next
 * key in it), takes the current key, is answered
 * ERR_TOKEN_KID_UNKNOWN, fetches the JWKS again and finds the Patient with the key published
 * since, after one retry; a JWKS with no key of the wanted curve is fetched again; and however
 * often it is asked, each client's cache fetches at most once per rate-limit interval.
 */
import { execFile, spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seededBeneId, seededMbi } from '../../../src/db/seed.js'
import { startGatewayProcess, type GatewayProcess } from '../../support/gateway-process.js'
import { needs } from '../../support/needs.js'
import { runWithInput } from '../../support/partner-cli.js'
import { childEnv } from '../../support/process.js'
import { tempDir } from '../../support/temp.js'

const run = promisify(execFile)
const PYTHON = '/usr/bin/python3'
const PYTHON_PACKAGE = fileURLToPath(new URL('../../../clients/python/', import.meta.url))
const GO_PACKAGE = fileURLToPath(new URL('../../../clients/go/', import.meta.url))
const JAVA_PACKAGE = fileURLToPath(new URL('../../../clients/java/', import.meta.url))

interface Jwk {
  kid: string
  crv: string
}

/** What each client program prints: its searches (status, kid, retried, Patient ids), fetches. */
interface Report {
  results: [number, string, boolean, string[]][]
  otherCurve: [number, string, boolean, string[]]
  fetches: number
}

const PYTHON_PROGRAM = `
import json, sys
from sealed_search_client import JwksCache, parse_jwks, search_patients
gateway, stale_file = sys.argv[1], sys.argv[2]
mbi = sys.stdin.read().strip()
stale = parse_jwks(open(stale_file).read())
cache = JwksCache(gateway + "/.well-known/jwks.json", initial=stale)
ids = lambda body: [e["resource"]["id"] for e in body.get("entry", [])]
results = []
for _ in range(5):
    status, body, kid, retried = search_patients(gateway, mbi, cache, "P-256", "jwe", ttl_seconds=300)
    results.append([status, kid, retried, ids(body)])
for _ in range(50):
    cache.refresh()
no_x25519 = JwksCache(gateway + "/.well-known/jwks.json", initial={"keys": [k for k in stale["keys"] if k["crv"] != "X25519"]})
status, body, kid, retried = search_patients(gateway, mbi, no_x25519, "X25519", "hpke")
print(json.dumps({"results": results, "otherCurve": [status, kid, retried, ids(body)], "fetches": cache.fetches}))
`

/** Go: the same with JWKSCache and SearchPatients (P-256 only: go-jose v2 has no X25519). */
const GO_PROGRAM = `package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	jose "gopkg.in/square/go-jose.v2"
	client "sealedsearch/client"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func row(o *client.Outcome) []interface{} {
	ids := o.Result.PatientIDs
	if ids == nil {
		ids = []string{}
	}
	return []interface{}{200, o.KeyID, o.Retried, ids}
}

func main() {
	gateway := os.Args[1]
	stale, err := os.ReadFile(os.Args[2])
	must(err)
	input, err := io.ReadAll(os.Stdin)
	must(err)
	mbi := strings.TrimSpace(string(input))
	keys, err := client.ParseP256Keys(stale)
	must(err)
	cache := client.NewJWKSCache(gateway+"/.well-known/jwks.json", keys)
	var results [][]interface{}
	for i := 0; i < 5; i++ {
		o, err := client.SearchPatients(gateway, mbi, cache, client.Options{TTLSeconds: 300})
		must(err)
		if o.Result.ErrorCode != "" {
			must(fmt.Errorf("refused: %s", o.Result.ErrorCode))
		}
		results = append(results, row(o))
	}
	for i := 0; i < 50; i++ {
		_, err := cache.Refresh()
		must(err)
	}
	empty := client.NewJWKSCache(gateway+"/.well-known/jwks.json", []jose.JSONWebKey{})
	o, err := client.SearchPatients(gateway, mbi, empty, client.Options{})
	must(err)
	out, err := json.Marshal(map[string]interface{}{
		"results": results, "otherCurve": row(o), "fetches": cache.Fetches(),
	})
	must(err)
	fmt.Println(string(out))
}
`

/** Java: the same with JwksCache and Search.searchPatients (P-256 only). */
const JAVA_PROGRAM = `
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sealedsearch.client.Client;
import sealedsearch.client.GatewayKey;
import sealedsearch.client.Identifiers;
import sealedsearch.client.JwksCache;
import sealedsearch.client.Search;

public class RefetchCheck {
  static String row(Search.Outcome o) {
    List<String> ids = new ArrayList<>();
    for (String id : o.result.patientIds) ids.add("\\"" + id + "\\"");
    int status = o.result.errorCode == null ? 200 : 400;
    return "[" + status + ",\\"" + o.kid + "\\"," + o.retried + ",[" + String.join(",", ids) + "]]";
  }

  public static void main(String[] args) throws Exception {
    String gateway = args[0];
    List<GatewayKey> stale = GatewayKey.parseJwks(Files.readString(Path.of(args[1])));
    String mbi = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).strip();
    JwksCache cache = new JwksCache(null, gateway, stale, JwksCache.DEFAULT_MIN_REFRESH);
    List<String> rows = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      rows.add(row(Search.searchPatients(gateway, mbi, cache, Client.Format.JWE, Identifiers.Kind.MBI, 300)));
    }
    for (int i = 0; i < 50; i++) cache.refresh();
    JwksCache empty = new JwksCache(null, gateway, new ArrayList<>(), JwksCache.DEFAULT_MIN_REFRESH);
    String other = row(Search.searchPatients(gateway, mbi, empty, Client.Format.HPKE, Identifiers.Kind.MBI, 0));
    System.out.println("{\\"results\\":[" + String.join(",", rows) + "],\\"otherCurve\\":" + other
        + ",\\"fetches\\":" + cache.fetches() + "}");
  }
}
`

describe('the partner clients after an emergency revocation', () => {
  let keysDir: string
  let gateway: GatewayProcess
  let staleFile: string
  let revoked: string
  let next: string
  let x25519: string

  async function keys(...args: string[]): Promise<string> {
    const r = await run(
      process.execPath,
      ['node_modules/tsx/dist/cli.mjs', 'scripts/keys.ts', ...args],
      { env: childEnv({ KEYS_DIR: keysDir }) },
    )
    return r.stdout.trim()
  }

  async function published(): Promise<Jwk[]> {
    const res = await fetch(`${gateway.url}/.well-known/jwks.json`)
    return ((await res.json()) as { keys: Jwk[] }).keys
  }

  function expectReport(report: Report, otherKid: string): void {
    const bene = seededBeneId(7)
    expect(report.results[0]).toEqual([200, next, true, [bene]])
    for (const r of report.results.slice(1)) expect(r).toEqual([200, next, false, [bene]])
    expect(report.otherCurve).toEqual([200, otherKid, false, [bene]])
    // One fetch after the revocation, however many refreshes were asked within the interval.
    expect(report.fetches).toBe(1)
  }

  beforeAll(async () => {
    const dir = await tempDir('sealed-clients-refetch-')
    keysDir = join(dir, 'keys')
    revoked = await keys('generate', '--curve', 'P-256')
    x25519 = await keys('generate', '--curve', 'X25519')
    // P-256's next key: published too, listed after the current keys.
    next = await keys('generate', '--curve', 'P-256')
    gateway = await startGatewayProcess({ KEYS_DIR: keysDir, KEYS_POLL_INTERVAL: '1' })
    // What a partner cached before the revocation: the current key and the next key. Each client
    // takes the current one (its first search is refused, then retried with the next key).
    staleFile = join(dir, 'stale-jwks.json')
    await writeFile(staleFile, gateway.jwksText)
    const stale = (JSON.parse(gateway.jwksText) as { keys: Jwk[] }).keys
    expect(stale.filter((k) => k.crv === 'P-256').map((k) => k.kid)).toEqual([revoked, next])
    // The emergency: the current key revoked; the next key is the current one at once.
    await keys('revoke', revoked)
    for (let i = 0; i < 150; i++) {
      const kids = (await published()).map((k) => k.kid)
      if (kids.includes(next) && !kids.includes(revoked)) break
      await sleep(100)
    }
    const refused = await fetch(`${gateway.url}/.well-known/jwks.json`)
    expect(JSON.stringify(await refused.json())).not.toContain(revoked)
  }, 120_000)

  afterAll(() => gateway?.stop())

  const python = spawnSync(PYTHON, ['-E', '-s', '-c', 'import jwcrypto.jwe, cryptography'])
  it.runIf(
    needs(
      python.status === 0 || process.env.CI === 'true',
      'the Python client: python3-jwcrypto and python3-cryptography',
    ),
  )(
    'Python: JwksCache and search_patients',
    async () => {
      const r = await runWithInput(
        PYTHON,
        ['-E', '-s', '-c', PYTHON_PROGRAM, gateway.url, staleFile],
        seededMbi(7),
        { cwd: PYTHON_PACKAGE },
      )
      expect(r.stderr).toBe('')
      expectReport(JSON.parse(r.stdout) as Report, x25519)
    },
    60_000,
  )

  const go = spawnSync('go', ['version'])
  it.runIf(
    needs((!go.error && go.status === 0) || process.env.CI === 'true', 'the Go client: golang-go'),
  )(
    'Go: JWKSCache and SearchPatients',
    async () => {
      const dir = await tempDir('sealed-go-refetch-')
      await run(join(GO_PACKAGE, 'build.sh'), [dir])
      const source = join(dir, 'gopath', 'src', 'refetch')
      await mkdir(source, { recursive: true })
      await writeFile(join(source, 'main.go'), GO_PROGRAM)
      const env = {
        ...process.env,
        GO111MODULE: 'off',
        GOPROXY: 'off',
        GOFLAGS: '',
        GOPATH: `${join(dir, 'gopath')}:/usr/share/gocode`,
      }
      await run('go', ['build', '-o', join(dir, 'refetch'), 'refetch'], { env })
      const r = await runWithInput(join(dir, 'refetch'), [gateway.url, staleFile], seededMbi(7))
      expect(r.stderr).toBe('')
      expectReport(JSON.parse(r.stdout) as Report, next)
    },
    240_000,
  )

  const javac = spawnSync('javac', ['-version'])
  it.runIf(
    needs(
      (!javac.error && javac.status === 0) || process.env.CI === 'true',
      'the Java client: openjdk-17',
    ),
  )(
    'Java: JwksCache and Search.searchPatients',
    async () => {
      const dir = await tempDir('sealed-java-refetch-')
      const classes = join(dir, 'classes')
      await run(join(JAVA_PACKAGE, 'build.sh'), [classes])
      await writeFile(join(dir, 'RefetchCheck.java'), JAVA_PROGRAM)
      await run('javac', [
        '--release',
        '17',
        '-cp',
        classes,
        '-d',
        dir,
        join(dir, 'RefetchCheck.java'),
      ])
      const r = await runWithInput(
        'java',
        ['-cp', `${classes}:${dir}`, 'RefetchCheck', gateway.url, staleFile],
        seededMbi(7),
      )
      expect(r.stderr).toBe('')
      expectReport(JSON.parse(r.stdout) as Report, next)
    },
    240_000,
  )
})
