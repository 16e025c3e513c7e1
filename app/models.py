"""Every table of the application, so that Alembic sees them all."""

from app.auth.models import AuthSession, RefreshToken  # noqa: F401
from app.canteen.models import Canteen, CanteenWindow, Dish, Menu, MenuItem, Order, OrderLine  # noqa: F401
from app.core.allocation import Allocation, Stock  # noqa: F401
from app.core.audit import AuditEvent  # noqa: F401
from app.core.timers import Timer  # noqa: F401
from app.devices.models import Device  # noqa: F401
from app.fees.models import FeeBill, FeeItem, FeeOrder  # noqa: F401
from app.lockers.models import LockerBank, LockerCompartment, Parcel  # noqa: F401
from app.meetings.models import Invitation, LeaveRequest, Meeting, MeetingSeries, Scan  # noqa: F401
from app.notifications.models import Delivery, Notification, SubscriptionGrant  # noqa: F401
from app.payments.models import (  # noqa: F401
    LedgerEntry,
    Payment,
    PaymentAlert,
    PayNotification,
    Reconciliation,
    ReconciliationMismatch,
    Refund,
)
from app.places.models import Place  # noqa: F401
from app.repairs.models import (  # noqa: F401
    CalendarDay,
    DispatchRule,
    Material,
    Repair,
    RepairCategory,
    RepairDeadline,
    RepairFollower,
    RepairMaterialUse,
    RepairPhoto,
    SlaPolicy,
    WorkerGroup,
    WorkerGroupMember,
)
from app.users.models import Department, Grade, Guardianship, SchoolClass, StaffMember, Student, User  # noqa: F401
