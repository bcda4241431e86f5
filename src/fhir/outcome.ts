/** FHIR R4 OperationOutcome.issue.code values we use (http://hl7.org/fhir/issue-type). */
export type IssueType =
  | 'invalid'
  | 'required'
  | 'value'
  | 'not-supported'
  | 'not-found'
  | 'multiple-matches'
  | 'security'
  | 'expired'
  | 'transient'
  | 'too-long'
  | 'exception'

export interface OperationOutcome {
  resourceType: 'OperationOutcome'
  issue: { severity: 'error' | 'fatal'; code: IssueType; diagnostics: string; details?: object }[]
}

/** One error issue. `code` is our stable error code, carried in `details` for machines. */
export function operationOutcome(
  type: IssueType,
  diagnostics: string,
  code?: string,
): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: type,
        diagnostics,
        ...(code ? { details: { coding: [{ system: 'urn:sealed-search:error', code }] } } : {}),
      },
    ],
  }
}
