"""Parcel lockers: a courier's recipient search, deposit, capacity view and parcels to take back; my parcels,
their pickup QR, opening a compartment from the mini-program, sharing a parcel with a proxy; the station's
compartments (restoring one), counter parcels and hand-over; and the controllers' signed side (door events,
heartbeats, a code typed at the locker)."""

from __future__ import annotations

import functools

from flask import g, request
from flask.views import MethodView

from app.core.auth import current_actor
from app.core.blueprint import Blueprint
from app.lockers import service
from app.lockers.schemas import (
    BankSchema,
    CompartmentSchema,
    CounterParcelSchema,
    DepositSchema,
    DoorEventSchema,
    HandledSchema,
    HandOverSchema,
    HeartbeatSchema,
    OpenedSchema,
    ParcelSchema,
    RecipientQuerySchema,
    RecipientSchema,
    TypedCodeSchema,
    WhoSchema,
)

blp = Blueprint("lockers", __name__, url_prefix="/api/v1/lockers", description="快递柜：投递、取件、柜门事件")


def signed_by_controller(view):
    """Refuses (401 ``devices.unauthorized``) a request not signed by a registered locker controller, or
    replayed, before anything is read or written; the device is ``g.device``."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.device = service.authenticate(method=request.method, path=request.path,
                                        headers=dict(request.headers), body=request.get_data(cache=True))
        return view(*args, **kwargs)

    return wrapper


@blp.route("/banks")
class Banks(MethodView):
    @blp.response(200, BankSchema(many=True))
    def get(self):
        """The banks: free compartments by size, out of service, parcels waiting, online (couriers, staff)."""
        return service.capacity(actor=current_actor())


@blp.route("/banks/<int:bank_id>/compartments")
class Compartments(MethodView):
    @blp.response(200, CompartmentSchema(many=True))
    @blp.alt_response(404, description="`lockers.bank_not_found`")
    def get(self, bank_id):
        """A bank's compartments and their status (station staff)."""
        return service.compartments(actor=current_actor(), bank_id=bank_id)


@blp.route("/compartments/<int:compartment_id>/restore")
class RestoreCompartment(MethodView):
    @blp.response(200, CompartmentSchema)
    @blp.alt_response(404, description="`lockers.compartment_not_found`")
    @blp.alt_response(409, description="`locker_compartment.invalid_transition`: not out of service")
    def post(self, compartment_id):
        """Put a mended compartment back in service (station staff): free again, or — the parcel its door
        kept inside — holding it again, the recipient told that it can be collected."""
        return service.restore(actor=current_actor(), compartment_id=compartment_id)


@blp.route("/recipients")
class Recipients(MethodView):
    @blp.arguments(RecipientQuerySchema, location="query")
    @blp.response(200, RecipientSchema(many=True))
    def get(self, query):
        """Find a recipient (couriers, staff): a whole phone or 学号/工号, or part of a name; at most 10, with
        class or department and a masked phone. Deposit with the chosen one's `recipient_id`."""
        return service.search_recipients(actor=current_actor(), **query)


@blp.route("/parcels")
class Parcels(MethodView):
    @blp.response(200, ParcelSchema(many=True))
    def get(self):
        """My parcels and those shared with me, newest first."""
        return service.my_parcels(actor=current_actor())

    @blp.arguments(DepositSchema)
    @blp.response(201, ParcelSchema)
    @blp.alt_response(409, description="`lockers.bank_offline`, `lockers.duplicate_tracking_no`, "
                                       "`lockers.recipient_ambiguous`")
    @blp.alt_response(503, description="`devices.offline`: the controller did not answer")
    def post(self, data):
        """Deposit a parcel (couriers): a compartment is held and its door opens; a full bank puts it on
        the counter's shelf. The recipient gets the pickup code once the door is closed."""
        return service.deposit(actor=current_actor(), **data)


@blp.route("/parcels/to-return")
class ToReturn(MethodView):
    @blp.response(200, ParcelSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """The parcels to take back, oldest first (a courier's own deposits; all of them for station staff)."""
        return service.to_return(actor=current_actor(), params=pagination_parameters)


@blp.route("/parcels/<int:parcel_id>/qr")
class ParcelQr(MethodView):
    @blp.response(200, content_type="image/png", description="the pickup code's QR, scanned at the counter")
    @blp.alt_response(404, description="`lockers.parcel_not_found`: not yours, `lockers.no_code`: not waiting")
    def get(self, parcel_id):
        """The QR code of my waiting parcel's pickup code (the recipient or the proxy)."""
        return service.parcel_qr(actor=current_actor(), parcel_id=parcel_id).response()


@blp.route("/parcels/<int:parcel_id>/open")
class OpenParcel(MethodView):
    @blp.response(200, ParcelSchema)
    @blp.alt_response(404, description="`lockers.parcel_not_found`: not yours")
    @blp.alt_response(409, description="`lockers.fee_due` (`errors`: `payment_id`, `amount_fen`: check it out "
                                       "with `POST /payments/{id}/checkout`, then open again), `lockers.at_counter`, "
                                       "`lockers.bank_offline`, `parcel.invalid_transition`")
    def post(self, parcel_id):
        """Open my parcel's compartment (the recipient, or the person it was shared with). Past 18 hours
        the overdue fee (¥0.5 per 12 hours begun, at most ¥3) is paid first."""
        return service.open_for_me(actor=current_actor(), parcel_id=parcel_id)


@blp.route("/parcels/<int:parcel_id>/share")
class ShareParcel(MethodView):
    @blp.arguments(WhoSchema)
    @blp.response(200, ParcelSchema)
    def post(self, data, parcel_id):
        """Let someone else collect my parcel (代取): they see it and its code and may open it."""
        return service.share(actor=current_actor(), parcel_id=parcel_id, **data)


@blp.route("/parcels/<int:parcel_id>/return")
class ReturnParcel(MethodView):
    @blp.response(200, ParcelSchema)
    @blp.alt_response(404, description="`lockers.parcel_not_found`")
    @blp.alt_response(409, description="`parcel.invalid_transition`: not to be returned, `lockers.bank_offline`")
    def post(self, parcel_id):
        """Take back a parcel nobody collected within 3 days (the courier who deposited it, station staff):
        its compartment opens."""
        return service.collect_return(actor=current_actor(), parcel_id=parcel_id)


@blp.route("/counter/parcels")
class CounterParcels(MethodView):
    @blp.response(200, CounterParcelSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """The parcels waiting on the counter's shelf, oldest first (station staff)."""
        return service.counter_parcels(actor=current_actor(), params=pagination_parameters)


@blp.route("/counter/hand-over")
class HandOver(MethodView):
    @blp.arguments(HandOverSchema)
    @blp.response(200, ParcelSchema)
    def post(self, data):
        """Hand a counter (驿站) parcel over against its pickup code (station staff)."""
        return service.hand_over(actor=current_actor(), **data)


# --- the controllers ------------------------------------------------------------------------------------------


@blp.route("/device/events")
class DoorEvents(MethodView):
    @blp.response(200, HandledSchema)
    @blp.alt_response(401, description="`devices.unauthorized`: forged, expired or replayed")
    @blp.alt_response(409, description="`lockers.unknown_txn`: not committed yet, send again")
    @signed_by_controller
    @blp.arguments(DoorEventSchema)
    def post(self, data):
        """A door event from a bank's controller (HMAC-signed)."""
        return service.door_event(device=g.device, **data)


@blp.route("/device/heartbeat")
class Heartbeat(MethodView):
    @blp.response(204)
    @blp.alt_response(401, description="`devices.unauthorized`")
    @signed_by_controller
    @blp.arguments(HeartbeatSchema)
    def post(self, data):
        """A controller's heartbeat (HMAC-signed)."""
        service.heartbeat(device=g.device)


@blp.route("/device/pickup")
class TypedCode(MethodView):
    @blp.response(200, OpenedSchema)
    @blp.alt_response(401, description="`devices.unauthorized`")
    @blp.alt_response(404, description="`lockers.code_not_found`")
    @blp.alt_response(429, description="`lockers.too_many_attempts`")
    @signed_by_controller
    @blp.arguments(TypedCodeSchema)
    def post(self, data):
        """A pickup code typed on a bank's keypad (HMAC-signed): the compartment's door opens."""
        return service.pickup_by_code(device=g.device, **data)
