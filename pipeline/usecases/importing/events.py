"""The events of a record an import registers, written without building its aggregate.

Most rows of a first import name a record the store does not have and no parents. Their
events are always the same few (`Registered`, then `AttributesRecorded`, `GeometrySet` and
`Published` as the row gives them), so they are encoded here straight from the row: building
the `Record` aggregate through its command methods, collecting its events and handing them to
the application cost three quarters of such a row's time. The stored events are the ones the
aggregate would record (same topics, same state, encoded by the store's own transcoder,
compressor and cipher); `tests/pipeline/usecases/test_import_events.py` holds them equal.
A row that changes a recorded record, or names parents, still goes through the aggregate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from json import encoder as json_encoder
from typing import Any
from uuid import UUID

from eventsourcing.domain import datetime_now_with_tzinfo
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent
from eventsourcing.utils import get_topic

from models.record import Record
from pipeline.usecases.importing.rows import ParsedRow

RECORD_TOPIC = get_topic(Record)
REGISTERED = get_topic(Record.Registered)
ATTRIBUTES_RECORDED = get_topic(Record.AttributesRecorded)
GEOMETRY_SET = get_topic(Record.GeometrySet)
PUBLISHED = get_topic(Record.Published)


def registration_states(
    row: ParsedRow, source: str, now: Any = None
) -> list[tuple[str, dict[str, Any]]]:
    """(topic, state) of each event registering `row`'s record, in version order; the state
    is what the aggregate's event holds, less its id and version. `now` is the events' time
    (default: now), or its encoding."""
    if now is None:
        now = datetime_now_with_tzinfo()
    ref = row.ref
    states = [
        (
            REGISTERED,
            {
                "timestamp": now,
                "originator_topic": RECORD_TOPIC,
                "kind": ref.kind,
                "key": dict(ref.key),
                "source": source,
            },
        )
    ]
    if row.attributes:
        attributes = dict(row.attributes)
        if row.valid_from:
            attributes["valid_from"] = row.valid_from
        states.append(
            (ATTRIBUTES_RECORDED, {"timestamp": now, "attributes": attributes, "source": source})
        )
    if row.geometry is not None:
        states.append(
            (
                GEOMETRY_SET,
                {"timestamp": now, "geometry": row.geometry, "crs": row.crs, "source": source},
            )
        )
    if row.publish:
        states.append((PUBLISHED, {"timestamp": now}))
    return states


def registration_events(
    mapper: Mapper[UUID],
    record_id: UUID,
    row: ParsedRow,
    source: str,
    encode: Callable[[Any], bytes] | None = None,
) -> list[StoredEvent]:
    """The stored events registering `row`'s record `record_id` (new to the store, no parents),
    encoded as `mapper.to_stored_event` encodes the aggregate's; `encode` is the transcoder's
    `encode`, or `batch_encoder(mapper)` for a batch of rows."""
    encode = encode or mapper.transcoder.encode
    now = _encoded(mapper, datetime_now_with_tzinfo())
    stored = []
    for version, (topic, state) in enumerate(registration_states(row, source, now), start=1):
        data = encode(state)
        if mapper.compressor:
            data = mapper.compressor.compress(data)
        if mapper.cipher:
            data = mapper.cipher.encrypt(data)
        stored.append(StoredEvent(record_id, version, topic, data))
    return stored


def batch_encoder(mapper: Mapper[UUID]) -> Callable[[Any], bytes]:
    """The mapper's transcoder's `encode`, for one thread's batch of events: with the library's
    JSON transcoder, its own encoder's C loop built once rather than once per event (a fifth
    of the encoding time of a parcel's events), writing the same bytes. Not thread-safe."""
    transcoder = mapper.transcoder
    make = json_encoder.c_make_encoder
    if type(transcoder) is not JSONTranscoder or make is None:
        return transcoder.encode
    e = transcoder.encoder
    if e.indent is not None:
        return transcoder.encode
    strings = (
        json_encoder.encode_basestring_ascii if e.ensure_ascii else json_encoder.encode_basestring
    )
    markers: dict[int, Any] | None = {} if e.check_circular else None
    loop = make(
        markers, e.default, strings, None, e.key_separator, e.item_separator, e.sort_keys,
        e.skipkeys, e.allow_nan,
    )  # fmt: skip

    def encode(obj: Any) -> bytes:
        if isinstance(obj, str):  # as JSONEncoder.encode: a lone string is not looped over
            return transcoder.encode(obj)
        return "".join(loop(obj, 0)).encode("utf8")

    return encode


def _encoded(mapper: Mapper[UUID], when: datetime) -> Any:
    """`when` as the mapper's JSON transcoder writes it (once for a row's events, rather than
    one call back from the encoder per event); `when` itself for another transcoder."""
    transcoding = getattr(mapper.transcoder, "types", {}).get(datetime)
    if transcoding is None:
        return when
    return {"_type_": transcoding.name, "_data_": transcoding.encode(when)}
