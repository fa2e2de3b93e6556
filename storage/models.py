"""The tables: units, officers and their channel identities, invites, campaigns, submissions,
answers and the append-only history of every change."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import overload

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# The clock rows are stamped by. A drill (KSTTHC_NOW) runs the whole process on its own clock
# (set by the CLI), so that a submission's time, and a notice due at once, agree with the clock
# the outbox sender and the planner go by: on the real clock, a drill's notices were never due.
stamping_clock: ContextVar[Callable[[], datetime] | None] = ContextVar("stamping_clock", default=None)


def utcnow() -> datetime:
    clock = stamping_clock.get()
    return datetime.now(UTC) if clock is None else clock().astimezone(UTC)


@overload
def as_utc(moment: datetime) -> datetime: ...
@overload
def as_utc(moment: None) -> None: ...
@overload
def as_utc(moment: datetime | None) -> datetime | None: ...
def as_utc(moment: datetime | None) -> datetime | None:
    """Stored times are UTC; SQLite hands them back without a timezone."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class UnitLevel(StrEnum):
    PROVINCE = "province"
    DEPARTMENT = "department"
    DISTRICT = "district"
    COMMUNE = "commune"


class Role(StrEnum):
    OFFICER = "officer"
    ADMIN = "admin"  # the VP office


class SubmissionStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # sent back by the VP office for revision: the unit edits again
    RESUBMITTED = "resubmitted"
    ACCEPTED = "accepted"

    @property
    def editable(self) -> bool:
        """Whether the unit's officers may change answers."""
        return self in (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED)

    @property
    def handed_in(self) -> bool:
        """Whether the VP office holds the report (no reminders, counted as submitted)."""
        return not self.editable


HANDED_IN = tuple(s.value for s in SubmissionStatus if s.handed_in)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


UTCDateTime = DateTime(timezone=True)


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    parent: Mapped[Unit | None] = relationship(remote_side=[id], lazy="raise")
    # Who signs the unit's report (`kstthc-bot units signer`): title lines, one a line
    # ("KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC"), and the name; None: the default of the unit's level.
    signer_title: Mapped[str | None] = mapped_column(Text)
    signer_name: Mapped[str | None] = mapped_column(String(255))


class Officer(Base):
    __tablename__ = "officers"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(16), default=Role.OFFICER)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Identity(Base):
    """An officer as one channel knows them (a Telegram user id, a Zalo id, a console name)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str | None] = mapped_column(String(64))
    # The last question message sent to this chat, edited to show the answer once recorded.
    prompt_message_id: Mapped[int | None] = mapped_column(BigInteger)
    prompt_question: Mapped[str | None] = mapped_column(String(64))
    # The question this chat was last shown, written with the event that showed it: an answer
    # typed in this chat is an answer to it (see engine.views.Turn.question).
    asked_question: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Invite(Base):
    """A one-time code binding its redeemer to a unit (or to the VP office); only its hash is kept."""

    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    role: Mapped[str] = mapped_column(String(16), default=Role.OFFICER)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    # A link code: redeeming it on another channel binds that identity to this same officer.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))


class OutlineVersion(Base):
    """An outline as a campaign was opened with it, kept for good: changing the outline file
    later changes no campaign's questions or documents. One row per text (its checksum)."""

    __tablename__ = "outline_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    checksum: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the content
    outline_id: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(32))  # the outline's own `version:`
    source_file: Mapped[str] = mapped_column(String(255))  # where it was first read from
    content: Mapped[str] = mapped_column(Text)  # the outline file's text (YAML)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    outline_file: Mapped[str] = mapped_column(String(255))
    outline_id: Mapped[str] = mapped_column(String(64))
    outline_version: Mapped[str] = mapped_column(String(32))
    # The outline version the campaign was opened with (by its checksum, which is also the key
    # of the parsed outline's cache: handlers.outline_versions.outline_of).
    outline_checksum: Mapped[str] = mapped_column(String(64), ForeignKey("outline_versions.checksum"))
    deadline_kind: Mapped[str] = mapped_column(String(32), default="fixed_date")
    deadline: Mapped[date] = mapped_column(Date)
    # The reporting period (kỳ báo cáo) the figures cover, both days included; a campaign of
    # before migration 0007 gets the default of deadlines.periods.default_period.
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    # Reminder schedule and office hours, as JSON (see handlers.reminders.ReminderSettings).
    settings: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    # "Nơi nhận" of the units' reports and of the city summary, one recipient a line
    # (`kstthc-bot campaign recipients`); None: the defaults of handlers/documents.py.
    report_recipients: Mapped[str | None] = mapped_column(Text)
    summary_recipients: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Closed by the VP office (web desk): no more reminders, no longer listed as open.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OfficeSigner(Base):
    """Who signs the VP office's documents (the city summary): at most one row."""

    __tablename__ = "office_signer"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)  # one line each, as Unit.signer_title
    name: Mapped[str] = mapped_column(String(255))


class CampaignUnit(Base):
    """A unit taking part in a campaign, with the dates its own deadline counts from."""

    __tablename__ = "campaign_units"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    visit_date: Mapped[date | None] = mapped_column(Date)
    unscheduled: Mapped[bool] = mapped_column(default=False)
    notice_date: Mapped[date | None] = mapped_column(Date)
    conclusion_date: Mapped[date | None] = mapped_column(Date)


class ConclusionItem(Base):
    """One item of the inspection conclusion a unit received in a campaign of kind
    after_conclusion: what it required; the unit reports on each (engine.conclusion_items)."""

    __tablename__ = "conclusion_items"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    number: Mapped[int] = mapped_column(Integer)
    requirement: Mapped[str] = mapped_column(Text)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=SubmissionStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))


class InboxUpdate(Base):
    """An incoming platform event, stored before the platform is told it was received and
    processed from here: a crash loses nothing, a redelivery changes nothing."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("channel", "update_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    update_id: Mapped[str] = mapped_column(String(64))
    chat_key: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    # Order among the chat's events (Telegram's update_id; else the inbox id).
    seq: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Set aside after its attempts failed: marked processed too, so that it is never replayed
    # after the chat's later events; the failure says why, for the IT person.
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failure: Mapped[str | None] = mapped_column(String(255))


# A chat's pending events in the order they are applied (storage/inbox.py's OLDEST_PENDING).
Index("ix_inbox_pending_in_order", InboxUpdate.channel, InboxUpdate.chat_key,
      func.coalesce(InboxUpdate.seq, InboxUpdate.id), InboxUpdate.id,
      sqlite_where=InboxUpdate.processed_at.is_(None), postgresql_where=InboxUpdate.processed_at.is_(None))


class OutboxMessage(Base):
    """A message to deliver (notification, reminder), written in the transaction that caused
    it; the unique key makes writing it twice a no-op."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegistrationAttempt(Base):
    """A wrong invite code typed in a chat: limits guessing."""

    __tablename__ = "registration_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnswerRow(Base):
    """The current answer to one question of one submission."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("submission_id", "question"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    question: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str | None] = mapped_column(Text)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    channel: Mapped[str] = mapped_column(String(16))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HistoryEntry(Base):
    """Append-only: every answer given and every change of a submission's status."""

    __tablename__ = "history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    event: Mapped[str] = mapped_column(String(16))
    question: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str | None] = mapped_column(String(16))
    value: Mapped[str | None] = mapped_column(Text)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    channel: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Conversation(Base):
    """Where one officer is in one submission: survives restarts, processes and channels."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("officer_id", "submission_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    cursor: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16), default="answering")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(Base):
    """A file an officer sent with one answer (`question`) or with the report as a whole
    (`question` NULL). The bytes live in the file store (storage.files) under their SHA-256;
    `key` makes the same file sent twice for the same place one row, whichever process wins."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    question: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
class WebToken(Base):
    """The web desk's one-time sign-in links and its sessions; only the token's hash is kept."""

    __tablename__ = "web_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "link" or "session"
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
