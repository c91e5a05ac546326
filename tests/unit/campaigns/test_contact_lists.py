"""Contact-list parsing: mapping, E.164, de-dup, GBK vs UTF-8, XLSX, per-row errors."""

from __future__ import annotations

import io

import pytest

from bots.campaigns.contact_lists import decode_text, normalise_phone, parse_contact_list
from bots.campaigns.errors import ContactListError

BAD_LIST = (
    "Mobile,Customer,Balance,Due\n"
    "(212) 736-0001,Ann Lee,120.50,2026-02-01\n"
    "not a number,Bob,10,2026-02-01\n"
    "+1 212 736 0001,Ann again,1,2026-02-01\n"
    "555,Tiny,1,2026-02-01\n"
    "0044 20 7946 0123,Carl,99,2026-02-03\n"
    ",No phone,1,2026-02-01\n"
)


def test_malformed_numbers_and_duplicates_give_per_row_errors() -> None:
    parsed = parse_contact_list(
        BAD_LIST.encode(),
        filename="list.csv",
        mapping={"phone": "Mobile", "name": "Customer", "amount": "Balance", "due_date": "Due"},
    )
    assert [c.phone_e164 for c in parsed.contacts] == ["+12127360001", "+442079460123"]
    assert [(e.row, e.code) for e in parsed.errors] == [
        (3, "phone_unparseable"),
        (4, "duplicate"),
        (5, "phone_invalid"),
        (7, "phone_missing"),
    ]
    ann = parsed.contacts[0]
    assert ann.variables == {"name": "Ann Lee", "amount": "120.50", "due_date": "2026-02-01"}
    assert ann.time_zones == ["America/New_York"] and ann.region == "US"
    assert parsed.contacts[1].time_zones == ["Europe/London"]


def test_gbk_file_is_read_and_reported() -> None:
    text = "手机,姓名,金额,到期日\n13812345678,张伟,￥500,2026-02-01\n13812345678,张伟,￥500,x\n"
    parsed = parse_contact_list(text.encode("gbk"), filename="名单.csv", default_region="CN")
    assert parsed.encoding == "gb18030"
    assert parsed.contacts[0].phone_e164 == "+8613812345678"
    assert parsed.contacts[0].name == "张伟"
    assert parsed.contacts[0].variables["amount"] == "￥500"
    assert parsed.contacts[0].time_zones == ["Asia/Shanghai"]
    assert [e.code for e in parsed.errors] == ["duplicate"]


def test_utf8_with_bom_and_semicolons() -> None:
    data = "\ufeffphone;name\n+12127360002;Zoë\n".encode()
    parsed = parse_contact_list(data, filename="x.csv")
    assert parsed.encoding == "utf-8-sig" and parsed.contacts[0].name == "Zoë"


def test_existing_numbers_are_duplicates() -> None:
    parsed = parse_contact_list(
        b"phone\n+12127360003\n", filename="x.csv", existing={"+12127360003"}
    )
    assert not parsed.contacts and parsed.errors[0].code == "duplicate"


def test_xlsx_upload() -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Phone", "Name", "Amount"])
    ws.append([2127360004, "Dee", 42.0])
    ws.append(["bad", "Eve", 1])
    buf = io.BytesIO()
    wb.save(buf)
    parsed = parse_contact_list(buf.getvalue(), filename="list.xlsx")
    assert [c.phone_e164 for c in parsed.contacts] == ["+12127360004"]
    assert parsed.contacts[0].variables["amount"] == "42"
    assert parsed.errors[0].row == 3


@pytest.mark.parametrize(
    ("data", "mapping", "msg"),
    [
        (b"foo,bar\n1,2\n", None, "no phone column"),
        (b"phone\n1\n", {"phone": "Tel"}, "not in the header"),
        (b"\xff\xfe\xfa\xfb\xfc", None, "neither UTF-8 nor GBK"),
    ],
)
def test_whole_file_errors(data: bytes, mapping, msg: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ContactListError, match=msg):
        parse_contact_list(data, filename="x.csv", mapping=mapping)


def test_decode_prefers_utf8() -> None:
    assert decode_text("电话".encode()) == ("电话", "utf-8")


def test_normalise_phone() -> None:
    assert normalise_phone("020 7946 0123", default_region="GB")[0] == "+442079460123"
    assert normalise_phone("12", default_region="US")[2] == "phone_invalid"
