#!/usr/bin/env python3
"""Validates FHIR R4 (4.0.1) JSON resources against the specification's structure with the
`fhir.resources` package (pinned in .ci/fhir-venv), plus the value sets of the codes Komlang
writes that the package does not check. Reads one JSON document per argument (a file), each a
resource or a list of resources; a Bundle's entries are validated as resources too. Prints one
line per problem; exits 1 when there is any, 0 otherwise.

Used by crates/komlang-web/tests/fhir.rs (through KOMLANG_FHIR_PYTHON, set by .ci/run)."""
import json
import sys

import fhir.resources
from fhir.resources import construct_fhir_element

assert fhir.resources.__fhir_version__ == "4.0.1", fhir.resources.__fhir_version__

# Required bindings the package does not enforce.
CODES = {
    ("Practitioner", "gender"): {"male", "female", "other", "unknown"},
    ("Bundle", "type"): {"searchset", "history", "collection"},
    ("Location", "status"): {"active", "suspended", "inactive"},
    ("Location", "mode"): {"instance", "kind"},
    ("CodeSystem", "status"): {"draft", "active", "retired", "unknown"},
    ("CodeSystem", "content"): {"not-present", "example", "fragment", "complete", "supplement"},
    ("CapabilityStatement", "status"): {"draft", "active", "retired", "unknown"},
    ("CapabilityStatement", "kind"): {"instance", "capability", "requirements"},
}
ISSUE_TYPES = {
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown", "expired",
    "forbidden", "suppressed", "processing", "not-supported", "duplicate", "multiple-matches", "not-found",
    "deleted", "too-long", "code-invalid", "extension", "too-costly", "business-rule", "conflict", "transient",
    "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled", "informational",
}
problems = []


def check(resource, where):
    kind = resource.get("resourceType")
    try:
        construct_fhir_element(kind, resource)
    except Exception as e:  # noqa: BLE001 - any refusal is a finding
        problems.append(f"{where}: {kind}/{resource.get('id')}: {e}".replace("\n", " | "))
        return
    for (k, field), allowed in CODES.items():
        if k == kind and field in resource and resource[field] not in allowed:
            problems.append(f"{where}: {kind}.{field} = {resource[field]!r} is not one of {sorted(allowed)}")
    if kind == "OperationOutcome":
        for issue in resource.get("issue", []):
            if issue.get("code") not in ISSUE_TYPES:
                problems.append(f"{where}: OperationOutcome issue code {issue.get('code')!r}")
    if kind == "Bundle":
        btype = resource.get("type")
        for i, entry in enumerate(resource.get("entry", [])):
            if btype == "history" and ("request" not in entry or "response" not in entry):
                problems.append(f"{where}: history entry {i} without request and response")
            if btype == "searchset" and ("request" in entry or "response" in entry):
                problems.append(f"{where}: searchset entry {i} with request or response")
            if "resource" in entry:
                check(entry["resource"], f"{where} entry {i}")


for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    for n, r in enumerate(doc if isinstance(doc, list) else [doc]):
        check(r, f"{path}[{n}]")

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
