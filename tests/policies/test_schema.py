"""The published schema, the shipped example policies, and ``manage.py policies``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from governance.policies.models import RiskPolicy
from governance.policies.schema import (
    RISK_TIERS,
    SCHEMA,
    policy_document_dump,
    policy_document_normalize,
    policy_document_parse,
)

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = sorted((ROOT / "docs" / "policies").glob("*.yaml"))


def test_the_published_schema_is_the_one_the_code_validates_with() -> None:
    published = json.loads((ROOT / "docs" / "schemas" / "warden-policy-v1.schema.json").read_text())
    assert published == SCHEMA


def test_there_is_an_example_policy_for_every_tier_documented_as_an_example() -> None:
    tiers = set()
    for path in EXAMPLES:
        text = path.read_text()
        assert text.startswith("# EXAMPLE"), path.name
        document = policy_document_normalize(policy_document_parse(text))
        assert document["name"].startswith("example-")
        tiers |= set(document["applies_to"]["risk_tiers"])
    assert tiers == set(RISK_TIERS)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_normalizing_is_idempotent_and_dumps_are_stable(path: Path) -> None:
    once = policy_document_normalize(policy_document_parse(path.read_text()))
    for fmt in ("yaml", "json"):
        text = policy_document_dump(once, fmt)
        twice = policy_document_normalize(policy_document_parse(text))
        assert twice == once
        assert policy_document_dump(twice, fmt) == text
    assert yaml.safe_load(policy_document_dump(once)) == once


@pytest.mark.django_db
def test_manage_py_imports_exports_and_validates(team_alpha: Any, tmp_path: Path) -> None:
    out = io.StringIO()
    call_command(
        "policies", "import", str(ROOT / "docs/policies/high.yaml"), "--team", "alpha", stdout=out
    )
    assert "policy 'example-high-tier' created revision 1" in out.getvalue()
    policy = RiskPolicy.objects.get()
    assert policy.revisions.get().author_label == "operator (manage.py)"
    exported = io.StringIO()
    call_command("policies", "export", "example-high-tier", "--team", "alpha", stdout=exported)
    target = tmp_path / "high.yaml"
    target.write_text(exported.getvalue())
    out = io.StringIO()
    call_command("policies", "import", str(target), "--team", "alpha", stdout=out)
    assert "at revision 1" in out.getvalue()  # identical: no new revision
    call_command("policies", "validate", *map(str, EXAMPLES), stdout=io.StringIO())
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: warden.policy/v1\nname: x\nthresholds: [{id: a, max_open: -1}]\n")
    with pytest.raises(CommandError, match=r"thresholds\[0\].max_open: -1 is less than"):
        call_command("policies", "validate", str(bad))
    with pytest.raises(CommandError, match="no team 'nope'"):
        call_command("policies", "import", str(bad), "--team", "nope")
    schema = io.StringIO()
    call_command("policies", "schema", stdout=schema)
    assert json.loads(schema.getvalue()) == SCHEMA
