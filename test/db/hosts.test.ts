import { describe, expect, it } from 'vitest'
import { checkHostsUrl, describeHosts, splitHosts } from '../../src/db/hosts.js'

describe('connection strings with several hosts', () => {
  it('splits them into one string per host, in the order listed, keeping user and options', () => {
    expect(splitHosts('postgres://u:p%40ss@h1:5432,h2:5433/db?sslmode=require')).toEqual([
      { host: 'h1:5432', url: 'postgres://u:p%40ss@h1:5432/db?sslmode=require' },
      { host: 'h2:5433', url: 'postgres://u:p%40ss@h2:5433/db?sslmode=require' },
    ])
    expect(splitHosts('postgresql://[::1]:5432,127.0.0.1/db').map((h) => h.host)).toEqual([
      '[::1]:5432',
      '127.0.0.1',
    ])
  })

  it('leaves out the options it is told to drop', () => {
    const [first] = splitHosts(
      'postgres://u@a:1,b:2/db?target_session_attrs=read-write&application_name=x',
      ['target_session_attrs'],
    )
    expect(first!.url).toBe('postgres://u@a:1/db?application_name=x')
    expect(
      splitHosts('postgres://a,b/db?target_session_attrs=any', ['target_session_attrs'])[1]!.url,
    ).toBe('postgres://b/db')
  })

  it('describes the hosts without the user or the password', () => {
    expect(describeHosts('postgres://user:secret@h1:1,h2:2/db')).toBe('h1:1,h2:2')
  })

  it.each([
    ['http://h/db', 'scheme'],
    ['postgres://', 'no-host'],
    ['postgres://u:p@/db', 'no-host'],
    ['postgres://a b:5432/db', 'not-a-url'],
    ['postgres://h1:5432,h 2/db', 'not-a-url'],
  ])('refuses %s (%s)', (url, problem) => {
    expect(checkHostsUrl(url)).toBe(problem)
  })

  it('accepts one host or several', () => {
    expect(checkHostsUrl('postgres://u:p@h1/db')).toBeUndefined()
    expect(
      checkHostsUrl('postgresql://u:p@h1:5432,h2:5433/db?target_session_attrs=primary'),
    ).toBeUndefined()
  })
})
