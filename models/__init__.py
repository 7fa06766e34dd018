"""Tables, engine and sessions, state machines and the audit log.

Importing the package registers every table on SQLModel.metadata (Alembic needs them all).
"""

from models.audit import AuditEvent
from models.cards import Card, CardStatus, CardUser
from models.dialogue import DialogueState
from models.feeds import CalendarFeed
from models.invites import InviteToken
from models.job_runs import JobRun
from models.login_throttle import LoginThrottle
from models.meetings import Meeting, MeetingStatus
from models.network import Absence, Admin, AvailabilityWindow, Office, Venue
from models.operator_sessions import OperatorSession
from models.operators import Operator
from models.outbox import InboundSms, Notification, SmsOptOut
from models.payouts import PayoutLine, PayoutStatement
from models.relay import RelayedMessage

__all__ = [
    "Absence",
    "Admin",
    "AuditEvent",
    "AvailabilityWindow",
    "CalendarFeed",
    "Card",
    "CardStatus",
    "CardUser",
    "DialogueState",
    "InboundSms",
    "InviteToken",
    "JobRun",
    "LoginThrottle",
    "Meeting",
    "MeetingStatus",
    "Notification",
    "Office",
    "Operator",
    "OperatorSession",
    "PayoutLine",
    "PayoutStatement",
    "RelayedMessage",
    "SmsOptOut",
    "Venue",
]
