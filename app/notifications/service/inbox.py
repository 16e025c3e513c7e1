"""My inbox: the list, the unread count, marking read."""

from __future__ import annotations

from sqlalchemy import func, select, update

from app.core import clock
from app.core.auth import Actor
from app.core.db import db
from app.core.errors import NotFound
from app.core.pagination import PageParams, paginate
from app.notifications.models import Notification

# --- the inbox -------------------------------------------------------------------------------------------


def inbox(*, actor: Actor, params: PageParams, unread: bool = False) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == actor.user_id).order_by(Notification.id.desc())
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return paginate(stmt, params)


def unread_count(*, actor: Actor) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == actor.user_id, Notification.read_at.is_(None))) or 0


def mark_read(*, actor: Actor, notification_id: int) -> Notification:
    n = db.session.get(Notification, notification_id)
    if n is None or n.user_id != actor.user_id:
        raise NotFound("notifications.not_found", "消息不存在")
    if n.read_at is None:
        n.read_at = clock.now()
    return n


def mark_all_read(*, actor: Actor) -> int:
    return db.session.execute(
        update(Notification).where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
    ).rowcount
