"""A courier deposits a parcel: the recipient searched and found, a compartment held and opened, or the counter."""

from __future__ import annotations

from sqlalchemy import select

from app.core import audit
from app.core.auth import Actor, require_roles
from app.core.db import db
from app.lockers.models import Parcel
from app.lockers.service import errors
from app.lockers.service.lifecycle import PARCEL, bank_or_404, hold_and_open, is_online, to_counter
from app.lockers.service.views import ParcelView, view
from app.lockers.states import (
    DEPOSITORS,
    OPEN_PARCELS,
    RECIPIENT_MATCHES,
    Size,
    Storage,
)
from app.lockers.states import Parcel as P
from app.users import service as users


def search_recipients(*, actor: Actor, q: str) -> list[users.Match]:
    """Who a courier may mean (couriers and staff only): a whole phone or 学号/工号, or part of a roster name;
    at most ``RECIPIENT_MATCHES``, each with a class or department and a masked phone to tell namesakes
    apart. The courier deposits for the one chosen by ``recipient_id``."""
    require_roles(actor, *DEPOSITORS)
    return users.search_people(q, limit=RECIPIENT_MATCHES)


def find_recipient(*, phone: str | None = None, number: str | None = None, name: str | None = None,
                   recipient_id: int | None = None) -> int:
    """The one active user meant: by id (a search result), phone, 学号/工号 or exact roster name."""
    if recipient_id is not None:
        found = [p.user_id for p in users.people([recipient_id])]
    else:
        found = users.find_user_ids(phone=phone, number=number, name=name)
    if not found:
        raise errors.RecipientNotFound(errors={"recipient": ["找不到收件人"]})
    if len(found) > 1:
        raise errors.RecipientAmbiguous()
    return found[0]


def deposit(*, actor: Actor, bank_id: int, tracking_no: str, size: str, phone: str | None = None,
            number: str | None = None, name: str | None = None, recipient_id: int | None = None) -> ParcelView:
    """A courier deposits a parcel: a compartment of the size is held and its door opened (the parcel is
    ``stored`` when the controller reports the door closed); a full bank puts it on the counter's shelf."""
    require_roles(actor, *DEPOSITORS)
    recipient_id = find_recipient(phone=phone, number=number, name=name, recipient_id=recipient_id)
    bank = bank_or_404(bank_id)
    if not is_online(bank):
        raise errors.BankOffline()
    if db.session.scalar(select(Parcel.id).where(Parcel.tracking_no == tracking_no,
                                                 Parcel.status.in_([str(s) for s in OPEN_PARCELS]))):
        raise errors.DuplicateTrackingNo()
    parcel = Parcel(tracking_no=tracking_no, bank_id=bank.id, size=str(Size(size)), storage=str(Storage.LOCKER),
                    status=str(P.DEPOSITING), recipient_id=recipient_id, courier_id=actor.user_id)
    db.session.add(parcel)
    db.session.flush()
    audit.record(PARCEL, parcel.id, "deposit", actor_id=actor.user_id,
                 data={"bank": bank.id, "tracking_no": tracking_no, "size": parcel.size})
    if not hold_and_open(parcel, bank, actor_id=actor.user_id):
        to_counter(parcel, actor_id=actor.user_id)
    return view(parcel, show_code=False)
