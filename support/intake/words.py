"""The case's status in the claimant's words."""
from flask_babel import lazy_gettext as _l

from ..models import CaseStatus

STATUS_WORDS = {
    CaseStatus.submitted: _l("Waiting for you to confirm your email address: open the link we emailed you."),
    CaseStatus.new: _l("Received. Your case is waiting for a member of our team."),
    CaseStatus.in_review: _l("A member of our team is checking your case."),
    CaseStatus.waiting_on_claimant: _l("We need something from you: please read our message below and answer."),
    CaseStatus.approved: _l("Approved. We are making the change."),
    CaseStatus.rejected: _l("We could not approve this case. Our message below explains why."),
    CaseStatus.executed: _l("Done. The change has been made."),
    CaseStatus.closed: _l("Closed."),
}
