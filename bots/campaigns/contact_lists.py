"""Contact-list upload: CSV or XLSX → validated, E.164-normalised, de-duplicated contacts.

Why per-row errors and not a failed upload: a list of 10 000 customers with three bad
numbers should load 9 997 and tell the manager exactly which rows (and why) were skipped.
The only whole-file errors are the ones where nothing can be read (unknown format, no phone
column). Encoding: UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK, what
Excel on a Chinese Windows writes); the encoding used is reported back.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

import phonenumbers

from bots.campaigns.errors import ContactListError
from bots.campaigns.windows import time_zones_for

# Header spellings recognised when no explicit mapping is given (lower-cased, stripped).
_GUESS: dict[str, tuple[str, ...]] = {
    "phone": (
        "phone",
        "phone_number",
        "mobile",
        "msisdn",
        "tel",
        "telephone",
        "number",
        "电话",
        "手机",
        "手机号",
        "电话号码",
        "联系电话",
    ),
    "name": ("name", "full_name", "customer", "customer_name", "姓名", "客户姓名", "名字"),
    "amount": ("amount", "balance", "amount_due", "金额", "欠款金额", "应还金额"),
    "due_date": ("due_date", "due", "due date", "到期日", "还款日", "到期日期"),
}


@dataclass(frozen=True)
class RowError:
    row: int
    code: str
    message: str
    column: str | None = None


@dataclass(frozen=True)
class ParsedContact:
    row: int
    phone_e164: str
    name: str
    region: str | None
    time_zones: list[str]
    variables: dict[str, str]


@dataclass
class ParsedList:
    contacts: list[ParsedContact] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    encoding: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    total_rows: int = 0


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (BOM ok) first, then GB18030 (⊇ GBK/GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as e:
        raise ContactListError(
            f"the file is neither UTF-8 nor GBK/GB18030 text (byte {e.start}); "
            "save it as CSV UTF-8 or XLSX"
        ) from e


def _read_rows(data: bytes, filename: str) -> tuple[list[str], list[list[str]], str | None]:
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return (*_read_xlsx(data), None)
    if not name.endswith((".csv", ".txt")) and name:
        raise ContactListError(f"{filename}: unsupported file type (use .csv or .xlsx)")
    text, encoding = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    if not rows:
        raise ContactListError(f"{filename}: the file has no rows")
    return rows[0], rows[1:], encoding


def _read_xlsx(data: bytes) -> tuple[list[str], list[list[str]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises zipfile/KeyError/InvalidFileException alike
        raise ContactListError(f"cannot read the workbook: {type(e).__name__}: {e}") from e
    ws = wb.worksheets[0]
    rows = [
        ["" if c is None else _cell(c) for c in r]
        for r in ws.iter_rows(values_only=True)
        if any(c is not None and str(c).strip() for c in r)
    ]
    wb.close()
    if not rows:
        raise ContactListError("the workbook's first sheet has no rows")
    return rows[0], rows[1:]


def _cell(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def guess_mapping(header: list[str]) -> dict[str, str]:
    """Field → column header for the columns we recognise."""
    norm = {h.strip().lower(): h for h in header}
    out: dict[str, str] = {}
    for fld, names in _GUESS.items():
        for n in names:
            if n in norm:
                out[fld] = norm[n]
                break
    return out


def normalise_phone(raw: str, *, default_region: str) -> tuple[str | None, str | None, str]:
    """(E.164, region, "") for a valid number, else (None, None, reason-code)."""
    text = raw.strip()
    if not text:
        return None, None, "phone_missing"
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        num = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        return None, None, "phone_unparseable"
    if not phonenumbers.is_valid_number(num):
        return None, None, "phone_invalid"
    return (
        phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.region_code_for_number(num),
        "",
    )


def parse_contact_list(
    data: bytes,
    *,
    filename: str = "contacts.csv",
    mapping: dict[str, str] | None = None,
    default_region: str = "US",
    default_time_zone: str = "UTC",
    existing: set[str] | None = None,
) -> ParsedList:
    """Parse an upload; ``mapping`` is field → column header (phone is required).

    Every non-phone column becomes a per-contact variable (mapped fields under their field
    name, others under their header) so scripts can use ``{amount}``, ``{due_date}`` etc.
    ``existing`` holds numbers already in the campaign: those rows are duplicates too.
    """
    header, rows, encoding = _read_rows(data, filename)
    header = [h.strip() for h in header]
    cols = {**guess_mapping(header), **(mapping or {})}
    unknown = [c for c in cols.values() if c not in header]
    if unknown:
        raise ContactListError(f"mapped column(s) not in the header: {', '.join(unknown)}")
    if "phone" not in cols:
        raise ContactListError(
            f"no phone column: map one of {header} to 'phone' (recognised: phone, mobile, 电话…)"
        )
    index = {h: i for i, h in enumerate(header)}
    by_col = {c: f for f, c in cols.items()}
    out = ParsedList(encoding=encoding, mapping=cols, total_rows=len(rows))
    seen: dict[str, int] = {}
    existing = existing or set()
    for n, row in enumerate(rows, start=2):  # row 1 is the header, as a spreadsheet shows it
        cells = {h: (row[i].strip() if i < len(row) else "") for h, i in index.items()}
        raw = cells[cols["phone"]]
        e164, region, problem = normalise_phone(raw, default_region=default_region)
        if e164 is None:
            out.errors.append(
                RowError(n, problem, f"row {n}: {raw!r} is not a valid phone number", "phone")
            )
            continue
        if e164 in seen or e164 in existing:
            first = f"row {seen[e164]}" if e164 in seen else "the campaign"
            out.errors.append(
                RowError(n, "duplicate", f"row {n}: {e164} already in {first}", "phone")
            )
            continue
        seen[e164] = n
        variables = {
            by_col.get(h, h): v for h, v in cells.items() if h != cols["phone"] and v != ""
        }
        out.contacts.append(
            ParsedContact(
                row=n,
                phone_e164=e164,
                name=variables.get("name", ""),
                region=region,
                time_zones=time_zones_for(e164, default=default_time_zone),
                variables=variables,
            )
        )
    return out
