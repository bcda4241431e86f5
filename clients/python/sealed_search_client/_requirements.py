"""The packages this client needs, checked before anything imports them."""
import importlib.metadata
import importlib.util
import sys

# Package (as installed) -> the lowest version that works. Also in ../requirements.txt.
REQUIRED = {"jwcrypto": (1, 0), "cryptography": (38, 0)}

INSTALL = (
    "Debian and Ubuntu: apt-get install python3-jwcrypto python3-cryptography "
    "(for /usr/bin/python3); any other python3: "
    "{python} -m pip install -r clients/python/requirements.txt"
)


def _version(name):
    try:
        parts = importlib.metadata.version(name).split(".")
        return tuple(int("".join(c for c in p if c.isdigit()) or 0) for p in parts[:2])
    except importlib.metadata.PackageNotFoundError:
        return None


def missing_packages():
    """What is missing or too old, one 'name (why)' each; empty when all is there."""
    problems = []
    for name, lowest in REQUIRED.items():
        if importlib.util.find_spec(name) is None:
            problems.append(f"{name} (not installed)")
            continue
        found = _version(name)
        if found is not None and found < lowest:
            want = ".".join(map(str, lowest))
            have = ".".join(map(str, found))
            problems.append(f"{name} (version {have}; needs {want} or later)")
    return problems


def require_packages():
    problems = missing_packages()
    if not problems:
        return
    message = (
        f"sealed_search_client needs the Python packages jwcrypto and cryptography; "
        f"{sys.executable} lacks: {', '.join(problems)}. "
        + INSTALL.format(python=sys.executable)
    )
    # Run as a command (python3 -m sealed_search_client): one line and exit 1, no traceback.
    if sys.argv and sys.argv[0] == "-m":
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(1)
    raise ImportError(message)
