"""The review table of the captures projection over a real event store (SQLite file and
PostgreSQL): a certificate's row follows its fields (read, accepted, corrected), survives a
rebuild, and a database older than the table (or than its left-blank column) is brought
level by one replay."""

from __future__ import annotations

from pipeline.projections.captures import capture_tables, current, rebuild
from pipeline.projections.review import DDL
from pipeline.usecases.certificates import accept_fields, correct_fields, leave_blank
from pipeline.usecases.review import next_in_queue, review_queue
from tests.helpers import make_services
from tests.pipeline.projections.test_captures import receive
from tests.web.test_review_queue import GARBLED, certificate


def scenario(svc, tmp_path) -> None:
    receive(svc, "not-a-certificate.png")  # a capture with no fields: not in the queue
    garbled = certificate(svc, tmp_path, "gcn-1.png", GARBLED, 64)
    clean = [GARBLED[0], "a) Thửa đất số: 45, tờ bản đồ số: 12", *GARBLED[2:]]
    tidy = certificate(svc, tmp_path, "gcn-2.png", clean, 65)
    queue = review_queue(svc)
    assert [q["id"] for q in queue["rows"]] == [str(garbled), str(tidy)]
    first = queue["rows"][0]
    assert first["name"] == "gcn-1.png" and first["needs_review"] == 3
    assert first["weakest"] == 0.0
    assert queue["figures"]["certificates"] == 2 and queue["pages"] == 1
    assert next_in_queue(svc, str(garbled)) == str(tidy)

    # When a person corrects one field and accepts another
    correct_fields(svc, garbled, {"parcel_number": "45"}, "crop", "person:lan")
    accept_fields(svc, garbled, ["area_m2"], "person:lan")
    row = next(q for q in review_queue(svc)["rows"] if q["id"] == str(garbled))
    assert (row["needs_review"], row["corrected"], row["accepted"]) == (2, 1, 1)
    figures = review_queue(svc)["figures"]
    assert (figures["corrected"], figures["accepted"]) == (1, 1)

    rebuild(svc)
    assert next(q for q in review_queue(svc)["rows"] if q["id"] == str(garbled)) == row

    # Given a database whose captures projection predates the review table
    tables = current(svc)
    with tables.base.transaction(commit=True) as cursor:
        cursor.execute(f"DROP TABLE {tables.base.prefix}certificate_review")
    svc.__dict__.pop("_capture_tables")
    assert next(q for q in review_queue(svc)["rows"] if q["id"] == str(garbled)) == row
    assert capture_tables(svc).counts()["pending"] == 1, "capture counts not doubled"

    # When a person leaves the fields with no value blank: counted apart from corrections
    left = leave_blank(svc, garbled, "person:lan")
    row = next(q for q in review_queue(svc)["rows"] if q["id"] == str(garbled))
    counts = (row["left_blank"], row["corrected"], row["needs_review"])
    assert counts == (len(left), 1, 2 - len(left))
    assert left and review_queue(svc)["figures"]["left_blank"] == len(left)

    # Given a review table from before the left-blank column (and its rows)
    tables = current(svc)
    with tables.base.transaction(commit=True) as cursor:
        cursor.execute(f"DROP TABLE {tables.base.prefix}certificate_review")
        old = DDL[0].replace(" left_blank INTEGER NOT NULL,", "")
        cursor.execute(old.replace("{p}", tables.base.prefix))
    svc.__dict__.pop("_capture_tables")
    assert next(q for q in review_queue(svc)["rows"] if q["id"] == str(garbled)) == row
    assert capture_tables(svc).counts()["pending"] == 1, "capture counts not doubled"


def test_on_sqlite(tmp_path):
    svc = make_services(tmp_path)
    try:
        scenario(svc, tmp_path)
    finally:
        svc.close()


def test_on_postgresql(tmp_path, pg_url):
    svc = make_services(tmp_path, SOHOA_EVENTSTORE_URL=pg_url)
    try:
        scenario(svc, tmp_path)
    finally:
        svc.close()
