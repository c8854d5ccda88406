"""Issue 17's smaller points: advisory links on a finding, the model page's "see all" and
policy, and assignee lists without read-only viewers."""

from __future__ import annotations

from typing import Any

import pytest

from governance.accounts.selectors import assignable_members
from governance.findings.models import Finding
from governance.findings.services import finding_assign
from governance.lib.api_errors import ApplicationError
from governance.web.templatetags.warden_web import advisory_url, reference_link, vuln_link

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("ident", "url"),
    [
        ("CVE-2024-3568", "https://nvd.nist.gov/vuln/detail/CVE-2024-3568"),
        ("cve-2021-44228", "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"),
        ("GHSA-pg7h-5qx3-wjr3", "https://github.com/advisories/GHSA-pg7h-5qx3-wjr3"),
        ("PYSEC-2024-12", "https://osv.dev/vulnerability/PYSEC-2024-12"),
        ("garak.dan.Dan_11_0", None),
        ("CVE-2024-1; rm -rf", None),
    ],
)
def test_advisory_urls(ident: str, url: str | None) -> None:
    assert advisory_url(ident) == url


def test_links_escape_and_refuse_other_schemes() -> None:
    assert reference_link("javascript:alert(1)") == "javascript:alert(1)"
    assert "<a" not in reference_link("javascript:alert(1)")
    assert reference_link("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"
    link = reference_link("https://example.com/a?b=1&c=2")
    assert link.startswith('<a href="https://example.com/a?b=1&amp;c=2"')
    assert 'rel="noopener noreferrer"' in link
    assert vuln_link("<script>") == "&lt;script&gt;"


def test_finding_page_links_the_cve_its_aliases_and_references(
    client_of: Any, member: Any, team_alpha: Any, seed_findings: Any
) -> None:
    run = seed_findings(team_alpha, "churn", [("CVE-2024-3568", "high")])
    finding = Finding.objects.get(model=run.model)
    finding.aliases = ["GHSA-pg7h-5qx3-wjr3"]
    finding.references = ["https://huggingface.co/advisory", "not a url"]
    finding.save()
    html = client_of(member).get(f"/findings/{finding.pk}/").content.decode()
    assert '<a href="https://nvd.nist.gov/vuln/detail/CVE-2024-3568"' in html
    assert '<a href="https://github.com/advisories/GHSA-pg7h-5qx3-wjr3"' in html
    assert '<a href="https://huggingface.co/advisory"' in html
    assert "<li>not a url</li>" in html


def test_assignee_list_and_service_leave_out_viewers(
    client_of: Any, member: Any, lead: Any, viewer: Any, team_alpha: Any, seed_findings: Any
) -> None:
    run = seed_findings(team_alpha, "churn", [("CVE-2024-1", "high")])
    finding = Finding.objects.get(model=run.model)
    assert {m.user.username for m in assignable_members(team_alpha)} == {
        member.username,
        lead.username,
    }
    html = client_of(member).get(f"/findings/{finding.pk}/").content.decode()
    assert f'<option value="{member.username}"' in html
    assert f'<option value="{viewer.username}"' not in html
    with pytest.raises(ApplicationError, match="is a viewer of this team"):
        finding_assign(finding=finding, actor=member, assignee_username=viewer.username)


def test_model_page_names_the_policy_and_links_all_findings_beyond_200(
    client_of: Any, member: Any, team_alpha: Any, seed_findings: Any
) -> None:
    items = [(f"CVE-2024-{i:04d}", "medium") for i in range(205)]
    run = seed_findings(team_alpha, "churn", items)
    html = client_of(member).get(f"/models/{run.model.pk}/").content.decode()
    assert 'data-policy="built-in default"' in html
    assert html.count("data-finding=") == 200
    assert "See all 205 in the findings list" in html
    assert f'href="/findings/?model={run.model.pk}&amp;status=active" data-see-all' in html
    small = seed_findings(team_alpha, "small", [("CVE-2024-9999", "low")])
    html = client_of(member).get(f"/models/{small.model.pk}/").content.decode()
    assert "data-see-all" not in html
