"""Every write to findings, their occurrences and their audit trail lives here.

- :mod:`.triage`: a person's decisions (status with reason, assignment, comments);
- :mod:`.imports`: a parsed report's findings for the subject its scan looked at, set-based;
- :mod:`.bulk`: one decision on many findings (a selection or a list's filter);
- :mod:`.saved_views`: a person's named list filters;
- :mod:`.lifecycle`: closures and reopenings other apps ask for (exception decisions and
  expiry, retired versions, SLA due dates).
"""

from governance.findings.services.bulk import BulkResult, findings_bulk_triage
from governance.findings.services.imports import ImportCounts, findings_import_apply
from governance.findings.services.lifecycle import (
    finding_status_set,
    findings_reopen,
    findings_sla_due_set,
    subjects_close,
    version_retire,
)
from governance.findings.services.saved_views import saved_view_remove, saved_view_save
from governance.findings.services.triage import (
    finding_assign,
    finding_comment,
    finding_comment_record,
    finding_triage,
)

__all__ = [
    "BulkResult",
    "ImportCounts",
    "finding_assign",
    "finding_comment",
    "finding_comment_record",
    "finding_status_set",
    "finding_triage",
    "findings_bulk_triage",
    "findings_import_apply",
    "findings_reopen",
    "findings_sla_due_set",
    "saved_view_remove",
    "saved_view_save",
    "subjects_close",
    "version_retire",
]
