"""The gateway's encrypted Patient search: the URL (only ciphertext in it) and one request."""
import json
import urllib.error
import urllib.request

SYSTEMS = {
    "mbi": "https://bluebutton.cms.gov/resources/identifier/mbi-encrypted",
    "hicn": "https://bluebutton.cms.gov/resources/identifier/hicn-encrypted",
}


def patient_search_url(base_url, token, kind="mbi"):
    return f"{base_url.rstrip('/')}/v2/fhir/Patient?identifier={SYSTEMS[kind]}%7C{token}"


def search(base_url, token, kind="mbi", timeout=30, context=None):
    """GETs the search; returns (HTTP status, the FHIR Bundle or OperationOutcome as a dict).
    context is an SSLContext (binding.tls_context): over mTLS, the one a bound token needs."""
    request = urllib.request.Request(
        patient_search_url(base_url, token, kind), headers={"Accept": "application/fhir+json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return response.status, json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode("utf-8"))


def error_code(body):
    """The stable error code of an OperationOutcome (docs/PARTNERS.md §5), else None."""
    try:
        return body["issue"][0]["details"]["coding"][0]["code"]
    except (KeyError, IndexError, TypeError):
        return None
