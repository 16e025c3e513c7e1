"""Users and the roster.

A *user* is a WeChat identity (openid). The *roster* is the school's list of people: staff members
(with their roles) and students (in classes, with their parents' phone numbers). A user becomes useful
by binding to the roster: to a staff member, to a student, or as a parent to one or more students —
at once with a parent phone the roster lists, else through a ``GuardianRequest`` the student or the
class teacher approves.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, IdMixin, TimestampMixin


def mask_phone(phone: str | None) -> str | None:
    """138****0001: phone numbers are shown masked except to roles that need them."""
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


class Department(IdMixin, TimestampMixin, Base):
    """处室 / 教研组."""

    __tablename__ = "departments"

    name: Mapped[str] = mapped_column(String(50), unique=True)
    code: Mapped[str | None] = mapped_column(String(20), unique=True)


class Grade(IdMixin, TimestampMixin, Base):
    """年级, e.g. 高一 (entry year 2026)."""

    __tablename__ = "grades"

    name: Mapped[str] = mapped_column(String(20), unique=True)
    entry_year: Mapped[int | None] = mapped_column(Integer)


class SchoolClass(IdMixin, TimestampMixin, Base):
    """班级, e.g. 高一(1)班."""

    __tablename__ = "school_classes"

    grade_id: Mapped[int] = mapped_column(ForeignKey("grades.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(30), unique=True)
    head_teacher_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"),
                                                        index=True)
    """班主任: decides guardian requests for the class's students (students import 班主任工号, or
    ``PUT /admin/classes/{id}/head-teacher``)."""

    grade: Mapped[Grade] = relationship(lazy="joined")


class StaffMember(IdMixin, TimestampMixin, Base):
    """A member of staff on the roster (teachers, workers, canteen staff, couriers, finance, admins)."""

    __tablename__ = "staff_members"

    number: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)), server_default=text("'{teacher}'"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    department: Mapped[Department | None] = relationship(lazy="joined")

    @property
    def phone_masked(self) -> str | None:
        return mask_phone(self.phone)


class Student(IdMixin, TimestampMixin, Base):
    __tablename__ = "students"

    number: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    class_id: Mapped[int] = mapped_column(ForeignKey("school_classes.id", ondelete="RESTRICT"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    parent_phones: Mapped[list[str]] = mapped_column(ARRAY(String(20)), server_default=text("'{}'"))
    """家长手机号 (at most two): a parent whose WeChat-verified number is one of them binds at once."""

    school_class: Mapped[SchoolClass] = relationship(lazy="joined")

    @property
    def parent_phones_masked(self) -> list[str]:
        return [mask_phone(p) for p in self.parent_phones or []]


class User(IdMixin, TimestampMixin, Base):
    """A WeChat identity, bound (or not yet) to the roster."""

    __tablename__ = "users"

    openid: Mapped[str] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    nickname: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"), unique=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="SET NULL"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))

    staff: Mapped[StaffMember | None] = relationship(lazy="joined")
    student: Mapped[Student | None] = relationship(lazy="joined")


class Guardianship(IdMixin, TimestampMixin, Base):
    """A parent's user account acting for a student."""

    __tablename__ = "guardianships"
    __table_args__ = (UniqueConstraint("user_id", "student_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str | None] = mapped_column(String(10))

    student: Mapped[Student] = relationship(lazy="joined")


class GuardianRequest(IdMixin, TimestampMixin, Base):
    """A parent asking to act for a student, decided by the student or the class teacher.

    ``student_number`` and ``student_name`` are what the requester typed. A request that matched no
    student, or a child this parent already has, is stored without ``student_id``: its requester sees
    it pending like any other, nobody can decide it, and it expires — so the answer and the requester's
    list never tell who is on the roster.
    """

    __tablename__ = "guardian_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn', 'expired')", name="status"),
        Index("uq_guardian_requests_pending", "requester_id", "student_number", "student_name", unique=True,
              postgresql_where=text("status = 'pending'")),
    )

    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    student_number: Mapped[str] = mapped_column(String(32))
    student_name: Mapped[str] = mapped_column(String(50))
    relation: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    expires_at: Mapped[datetime]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_as: Mapped[str | None] = mapped_column(String(20))
    """``student``, ``class_teacher`` or ``admin``: in which capacity ``decided_by`` decided."""
    decided_at: Mapped[datetime | None]
