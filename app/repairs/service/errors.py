"""The errors the repairs service raises besides the core ones: a repair or a photo the person may not see
answers the same 404 as one that does not exist; ``invalid`` is a 422 about one field."""

from __future__ import annotations

from app.core.errors import NotFound, ValidationFailed


class RepairNotFound(NotFound):
    error_code = "repairs.not_found"
    message = "报修单不存在"


class PhotoNotFound(NotFound):
    error_code = "repairs.photo_not_found"
    message = "照片不存在"


def invalid(field_name: str, message: str, error_code: str = "repairs.invalid") -> ValidationFailed:
    return ValidationFailed(error_code, message, errors={field_name: [message]})
