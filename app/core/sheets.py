"""Reading and writing ``.xlsx`` sheets (openpyxl) for imports and exports.

Imports are all-or-nothing: ``read_rows`` returns every data row as a dict keyed by our field names,
and ``RowErrors`` collects every problem (row number as Excel shows it, column, Chinese reason) so
the answer can list them all at once; the caller writes nothing unless there are none.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from app.core.errors import ValidationFailed


class SheetUnreadable(ValidationFailed):
    error_code = "import.unreadable"
    message = "无法读取文件，请上传 Excel（.xlsx）格式的表格"


@dataclass
class ImportResult:
    created: int
    updated: int
    dry_run: bool


@dataclass
class RowErrors:
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: int, column: str | None, reason: str) -> None:
        self.errors.append({"row": row, "column": column, "reason": reason})

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self, error_code: str, message: str) -> None:
        if self.errors:
            raise ValidationFailed(error_code, message, errors={"rows": self.errors})


def read_rows(data: bytes, columns: Mapping[str, str], *, max_rows: int, max_bytes: int) -> list[tuple[int, dict]]:
    """Rows of the first sheet as ``(excel_row_number, {field: value})``; headers are Chinese titles
    mapped through ``columns``. Empty rows are skipped; strings are stripped."""
    if len(data) > max_bytes:
        raise ValidationFailed("import.too_large", f"文件太大，最多 {max_bytes // (1024 * 1024)} MB")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise SheetUnreadable() from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise ValidationFailed("import.empty", "表格是空的")
    titles = [str(h).strip() if h is not None else "" for h in header]
    missing = [title for title in columns if title not in titles]
    if missing:
        raise ValidationFailed("import.missing_columns", "表头缺少列：" + "、".join(missing),
                               errors={"columns": missing})
    index = {columns[t]: i for i, t in enumerate(titles) if t in columns}
    out: list[tuple[int, dict]] = []
    for number, values in enumerate(rows, start=2):
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        if len(out) >= max_rows:
            raise ValidationFailed("import.too_many_rows", f"一次最多导入 {max_rows} 行")
        record = {}
        for name, i in index.items():
            value = values[i] if i < len(values) else None
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # 工号 typed as a number in Excel
            record[name] = str(value).strip() if value is not None else ""
        out.append((number, record))
    book.close()
    return out


def duplicates(rows: Iterable[tuple[int, dict]], key: str, errors: RowErrors, column: str, reason: str) -> None:
    seen: dict[str, int] = {}
    for number, record in rows:
        value = record.get(key)
        if not value:
            continue
        if value in seen:
            errors.add(number, column, f"{reason}（与第 {seen[value]} 行重复）")
        else:
            seen[value] = number


def write_workbook(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """``[(sheet title, header row, rows)]`` → xlsx bytes."""
    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = book.create_sheet(title=title[:31])
        ws.append(list(header))
        for row in rows:
            ws.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
