"""Route 53's pure timing parts: record changes undone until INSYNC, a client's cached answer, status changes."""

from __future__ import annotations

from lab.services.route53.dns import Answer
from lab.services.route53.health import Point, status_changes
from lab.services.route53.propagation import Change, change_id, client_answer, records_as_of

T0 = 1_800_000_000.0


def record(name: str, value: str, **extra) -> dict:
    return {"Name": name, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": value}], **extra}


def test_changes_count_at_the_name_servers_once_insync():
    now_records = {"example.lab": [record("www.example.lab.", "10.0.0.2"), record("api.example.lab.", "10.0.0.9")]}
    upsert = Change("C1", "Z1", "example.lab", T0, T0 + 60, keys=[("www.example.lab", "A", "")],
                    before=[record("www.example.lab.", "10.0.0.1")])
    create = Change("C2", "Z1", "example.lab", T0 + 10, T0 + 70, keys=[("api.example.lab", "A", "")])
    assert records_as_of(now_records, [upsert, create], T0 + 80) == now_records
    at_65 = records_as_of(now_records, [upsert, create], T0 + 65)["example.lab"]
    assert sorted(r["ResourceRecords"][0]["Value"] for r in at_65) == ["10.0.0.2"]  # api not yet there
    at_30 = records_as_of(now_records, [upsert, create], T0 + 30)["example.lab"]
    assert [r["ResourceRecords"][0]["Value"] for r in at_30] == ["10.0.0.1"]
    assert upsert.status(T0 + 59) == "PENDING" and upsert.status(T0 + 60) == "INSYNC"
    assert upsert.info(T0)["Id"] == "/change/C1"


def test_change_ids_look_like_route53_s_and_replay_the_same():
    assert change_id(7, 1) == change_id(7, 1) != change_id(7, 2)
    assert change_id(7, 1).startswith("C") and len(change_id(7, 1)) == 14 and change_id(7, 1).isupper()


def answer(value: str | None, ttl: int = 60) -> Answer:
    if value is None:
        return Answer("www.example.lab.", "A", code="NXDOMAIN")
    return Answer("www.example.lab.", "A", data=[value], ttl=ttl)


def test_a_client_keeps_the_answer_it_had_for_its_ttl():
    # The answer flips to the SECONDARY at T0 + 30 (a TTL of 60 on the PRIMARY), and back at T0 + 500.
    def at(moment: float) -> Answer:
        if T0 + 30 <= moment < T0 + 500:
            return answer("10.1.1.10", ttl=300)
        return answer("10.0.1.10")

    moments = [T0 + 30, T0 + 500]
    seen = client_answer(at, moments, T0 + 60)
    assert seen.answer.data == ["10.0.1.10"] and seen.current.data == ["10.1.1.10"]
    assert seen.kept_until == T0 + 90
    assert client_answer(at, moments, T0 + 90).answer.data == ["10.1.1.10"]
    back = client_answer(at, moments, T0 + 600)  # the SECONDARY's 300 s TTL holds until T0 + 800
    assert back.answer.data == ["10.1.1.10"] and back.kept_until == T0 + 800
    assert client_answer(at, moments, T0 + 800).answer.data == ["10.0.1.10"]
    assert client_answer(at, [], T0 + 60).answer.data == ["10.1.1.10"]  # nothing changed as far as it knows


def test_a_negative_answer_is_not_kept():
    def at(moment: float) -> Answer:
        return answer(None) if moment < T0 + 60 else answer("10.0.0.1")

    assert client_answer(at, [T0 + 60], T0 + 61).answer.data == ["10.0.0.1"]


def test_status_changes_after_the_span_both_ways():
    points = [Point(T0, True), Point(T0 + 100, False), Point(T0 + 110, True), Point(T0 + 200, False),
              Point(T0 + 400, True)]
    # 30 s span: the 10 s blip changes nothing; the outage from T0 + 200 shows at T0 + 230, the recovery at 430.
    assert status_changes(points, T0, 30, False, T0 + 1000) == [T0 + 230, T0 + 430]
    assert status_changes(points, T0, 30, False, T0 + 300) == [T0 + 230]
    assert status_changes(points, T0, 30, True, T0 + 1000)[0] == T0 + 30  # inverted: unhealthy while it answers
