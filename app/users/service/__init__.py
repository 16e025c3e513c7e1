"""Rules about people, one module per audience; callers use ``from app.users import service``.

- ``accounts``: WeChat users, the per-request actor and its roles, a user's own profile (我的).
- ``directory``: how other domains find people (by role, department, class) and name them.
- ``binding``: binding a WeChat account to the roster as staff, student or parent (a parent at once
  with a roster phone, else through a guardian request).
- ``guardians``: parents and their students: guardian requests (ask, approve, reject, withdraw,
  expire), the caps, unbinding, the class's head teacher who decides.
- ``roster``: departments, classes, the staff and student lists, roles, staff and student imports (admin).

Demo data lives in ``app.users.seed``. Keyword-only functions taking the actor explicitly; they
flush, never commit.
"""

from app.users.service.accounts import (
    Profile,
    get_or_create_wechat_user,
    get_user,
    load_actor,
    prebuild_gate,
    profile,
    roles_of,
)
from app.users.service.binding import AlreadyBound, RosterNotFound, bind, bind_with_phone_code
from app.users.service.directory import (
    Contact,
    Match,
    Person,
    StudentInfo,
    class_user_ids,
    contact,
    contacts,
    display_names,
    find_user_ids,
    people,
    search_people,
    staff_user_ids,
    student_and_guardian_user_ids,
    students,
    students_by_number,
    students_of,
    user_id_of_staff,
    users_with_roles,
    with_role,
)
from app.users.service.guardians import (
    EXPIRY_TIMER,
    DeciderView,
    GuardiansFull,
    MyRequest,
    StudentGuardians,
    decide,
    expire,
    get_request,
    leave_child,
    my_request_view,
    my_requests,
    remove_guardian,
    requests_to_decide,
    set_head_teacher,
    student_guardians,
    withdraw,
)
from app.users.service.roster import (
    change_staff_role,
    import_staff,
    import_students,
    list_classes,
    list_departments,
    list_staff,
    list_students,
    set_staff_roles,
)

__all__ = [
    # accounts
    "Profile",
    "get_or_create_wechat_user",
    "get_user",
    "load_actor",
    "prebuild_gate",
    "profile",
    "roles_of",
    # directory
    "Contact",
    "Match",
    "Person",
    "StudentInfo",
    "class_user_ids",
    "contact",
    "contacts",
    "display_names",
    "find_user_ids",
    "people",
    "search_people",
    "staff_user_ids",
    "student_and_guardian_user_ids",
    "students",
    "students_by_number",
    "students_of",
    "user_id_of_staff",
    "users_with_roles",
    "with_role",
    # binding
    "AlreadyBound",
    "RosterNotFound",
    "bind",
    "bind_with_phone_code",
    # guardians
    "EXPIRY_TIMER",
    "DeciderView",
    "GuardiansFull",
    "MyRequest",
    "StudentGuardians",
    "decide",
    "expire",
    "get_request",
    "leave_child",
    "my_request_view",
    "my_requests",
    "remove_guardian",
    "requests_to_decide",
    "set_head_teacher",
    "student_guardians",
    "withdraw",
    # roster
    "change_staff_role",
    "import_staff",
    "import_students",
    "list_classes",
    "list_departments",
    "list_staff",
    "list_students",
    "set_staff_roles",
]
