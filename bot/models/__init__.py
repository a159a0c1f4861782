"""SQLAlchemy models: the declarative base and every table, imported so Alembic sees them."""
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# stable constraint names, so Alembic migrations work the same on SQLite and PostgreSQL
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


from bot.models.core import AuditEntry, Member, OrgUnit, RoleGrant, UnknownSender  # noqa: E402
from bot.models.messaging import Delivery  # noqa: E402
from bot.models.checkins import CheckIn  # noqa: E402
from bot.models.responsibilities import TargetLetterConfirmation  # noqa: E402
from bot.models.study import Leave, StudyLog  # noqa: E402
from bot.models.quiz import QuizAnswer, ReviewCard  # noqa: E402
from bot.models.pushes import ItemReceipt, MemberPreference, Push, PushFeedback  # noqa: E402
from bot.models.activities import Activity, ActivityRegistration  # noqa: E402
from bot.models.surveys import Feedback, SurveyAnswer, SurveyResponse  # noqa: E402
from bot.models.bindings import SenderBinding  # noqa: E402

__all__ = ["Base", "AuditEntry", "CheckIn", "Delivery", "ItemReceipt", "Leave", "Member", "MemberPreference", "OrgUnit",
           "Push", "PushFeedback", "QuizAnswer", "ReviewCard", "RoleGrant", "StudyLog", "TargetLetterConfirmation",
           "UnknownSender"]
