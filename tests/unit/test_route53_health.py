"""Route 53 health checks and DNS answers as pure functions of time (lab.services.route53.health, _route53_dns)."""

from __future__ import annotations

import random

import pytest

from lab.services.route53.dns import Resolver
from lab.services.route53.health import (
    NOT_FOUND,
    NXDOMAIN,
    OK,
    TIMEOUT,
    Point,
    last_failures,
    merge,
    next_flip,
    observations,
    status_at,
    status_text,
    target_of,
    window,
)

T0 = 1_800_000_000.0
CONFIG = {"Type": "HTTPS", "FullyQualifiedDomainName": "shop.us-east-1.securecart.lab", "RequestInterval": 10,
          "FailureThreshold": 3}


@pytest.mark.parametrize("settings, kind, region, resource", [
    ({"FullyQualifiedDomainName": "shop.us-west-2.securecart.lab."}, "lab", "us-west-2", None),
    ({"FullyQualifiedDomainName": "securecart-orders-db.c9akciq32.us-east-1.rds.amazonaws.com"}, "rds", "us-east-1",
     "securecart-orders-db"),
    ({"FullyQualifiedDomainName": "shop-site.s3-website-us-west-2.amazonaws.com"}, "s3-website", "us-west-2",
     "shop-site"),
    ({"FullyQualifiedDomainName": "shop-site.s3-website.eu-west-1.amazonaws.com"}, "s3-website", "eu-west-1",
     "shop-site"),
    ({"FullyQualifiedDomainName": "dynamodb.us-west-2.amazonaws.com"}, "aws", "us-west-2", None),
    ({"IPAddress": "10.0.1.25"}, "ip", None, "10.0.1.25"),
    ({"FullyQualifiedDomainName": "ec2-54-12-3-4.compute-1.amazonaws.com"}, "ip", None, "54.12.3.4"),
    ({"FullyQualifiedDomainName": "ip-10-1-2-3.us-west-2.compute.internal"}, "ip", None, "10.1.2.3"),
    ({"FullyQualifiedDomainName": "www.example.com"}, "nowhere", None, None),
])
def test_targets_the_sandbox_answers_for(settings, kind, region, resource):
    target = target_of(settings)
    assert (target.kind, target.region, target.resource) == (kind, region, resource)
    if kind == "nowhere":
        assert target.reason == NXDOMAIN


def test_status_follows_the_endpoint_after_threshold_times_interval():
    points = [Point(T0, True), Point(T0 + 100, False, TIMEOUT)]
    span = window(CONFIG)
    assert span == 30
    assert status_at(points, T0, span, False, T0 + 129.9) == (True, T0)
    assert status_at(points, T0, span, False, T0 + 130) == (False, T0 + 130)
    assert next_flip(points, T0, span, False, T0 + 110) == T0 + 130
    # A blip shorter than the window never shows.
    blip = [Point(T0, True), Point(T0 + 100, False, TIMEOUT), Point(T0 + 120, True)]
    assert status_at(blip, T0, span, False, T0 + 500)[0] is True
    assert next_flip(blip, T0, span, False, T0 + 500) is None
    # Recovery takes the same window; an inverted check reads the other way round.
    recovered = [Point(T0, False, TIMEOUT), Point(T0 + 100, True)]
    assert status_at(recovered, T0, span, False, T0 + 129)[0] is False
    assert status_at(recovered, T0, span, False, T0 + 131)[0] is True
    assert status_at(points, T0, span, True, T0 + 50)[0] is False  # inverted: an answering endpoint is unhealthy


def test_observations_report_each_checker_latest_check():
    points = [Point(T0, True), Point(T0 + 100, False, TIMEOUT)]
    seen = observations(points, CONFIG, T0, T0 + 105)
    assert len(seen) == 8 and {o["Region"] for o in seen} >= {"us-east-1", "eu-west-1", "sa-east-1"}
    statuses = {o["StatusReport"]["Status"].split(":")[0] for o in seen}
    assert statuses == {"Success", "Failure"}  # some checkers have checked since the outage, some not yet
    for observation in seen:
        assert T0 + 95 <= observation["StatusReport"]["CheckedTime"] <= T0 + 105
        assert observation["IPAddress"].startswith("15.177.")
    later = observations(points, CONFIG, T0, T0 + 120)
    assert all(o["StatusReport"]["Status"].startswith("Failure: Connection timed out") for o in later)
    assert observations(points, {**CONFIG, "Regions": ["us-east-1", "us-west-1", "us-west-2"]}, T0, T0 + 120)[2][
        "Region"] == "us-west-2"
    assert observations(points, CONFIG, T0, T0 + 0.5) == [o for o in observations(points, CONFIG, T0, T0 + 0.5)
                                                          if o["StatusReport"]["CheckedTime"] >= T0]


def test_last_failures_remember_the_latest_failed_check():
    points = [Point(T0, True), Point(T0 + 100, False, NOT_FOUND), Point(T0 + 200, True)]
    failures = last_failures(points, CONFIG, T0, T0 + 1000)
    assert len(failures) == 8
    for failure in failures:
        assert T0 + 100 <= failure["StatusReport"]["CheckedTime"] < T0 + 200
        assert failure["StatusReport"]["Status"] == "Failure: HTTP Status Code 404, Not Found"
    assert last_failures([Point(T0, True)], CONFIG, T0, T0 + 1000) == []


def test_status_texts_as_route53_words_them():
    assert status_text(CONFIG, Point(T0, True, OK)) == "Success: HTTP Status Code 200, OK"
    assert status_text(CONFIG, Point(T0, False, NXDOMAIN)) == "Failure: DNS resolution failed: Rcode NXDomain(3)"
    assert status_text({"Type": "TCP"}, Point(T0, True)).startswith("Success: TCP")


def test_merge_keeps_only_changes():
    merged = merge([Point(T0 + 10, False, TIMEOUT), Point(T0, True), Point(T0 + 5, True),
                    Point(T0 + 20, False, TIMEOUT)])
    assert merged == [Point(T0, True), Point(T0 + 10, False, TIMEOUT)]


def record(name: str, values: list[str], **extra):
    return {"Name": name, "Type": extra.pop("Type", "A"), "TTL": 60,
            "ResourceRecords": [{"Value": value} for value in values], **extra}


def resolver(records, health=None, endpoint=None, seed: int = 1) -> Resolver:
    health = health or {}
    return Resolver({"securecart.lab": records}, lambda check: health.get(check, (True, "ok")),
                    endpoint or (lambda name: (True, "ok")), random.Random(seed))


FAILOVER = [
    record("www.securecart.lab.", ["10.0.0.1"], SetIdentifier="primary", Failover="PRIMARY", HealthCheckId="hc-1"),
    record("www.securecart.lab.", ["10.1.0.1"], SetIdentifier="secondary", Failover="SECONDARY", HealthCheckId="hc-2"),
]


def test_failover_answers_the_healthy_record():
    assert resolver(FAILOVER).resolve("www.securecart.lab", "A").data == ["10.0.0.1"]
    answer = resolver(FAILOVER, {"hc-1": (False, "down")}).resolve("WWW.securecart.lab.", "A")
    assert answer.data == ["10.1.0.1"] and answer.record["SetIdentifier"] == "secondary"
    assert answer.health["hc-1"] == {"healthy": False, "reason": "down"}
    both = resolver(FAILOVER, {"hc-1": (False, "down"), "hc-2": (False, "down")}).resolve("www.securecart.lab", "A")
    assert both.data == ["10.0.0.1"] and "both unhealthy" in both.why[0]


def test_weighted_multivalue_and_simple_records():
    weighted = [record("api.securecart.lab.", ["10.0.0.1"], SetIdentifier="blue", Weight=100, HealthCheckId="hc-b"),
                record("api.securecart.lab.", ["10.0.0.2"], SetIdentifier="green", Weight=0)]
    assert resolver(weighted).resolve("api.securecart.lab", "A").data == ["10.0.0.1"]
    assert resolver(weighted, {"hc-b": (False, "down")}).resolve("api.securecart.lab", "A").data == ["10.0.0.2"]
    picks = {tuple(resolver([record("w.securecart.lab.", ["1.1.1.1"], SetIdentifier="a", Weight=1),
                             record("w.securecart.lab.", ["2.2.2.2"], SetIdentifier="b", Weight=1)],
                            seed=seed).resolve("w.securecart.lab", "A").data) for seed in range(40)}
    assert picks == {("1.1.1.1",), ("2.2.2.2",)}
    multi = [record("m.securecart.lab.", [f"10.0.0.{i}"], SetIdentifier=f"m{i}", MultiValueAnswer=True,
                    HealthCheckId=f"hc-{i}") for i in range(3)]
    assert resolver(multi, {"hc-1": (False, "down")}).resolve("m.securecart.lab", "A").data == ["10.0.0.0", "10.0.0.2"]
    simple = resolver([record("db.securecart.lab.", ["orders.example"], Type="CNAME")])
    cname = simple.resolve("db.securecart.lab", "A")
    assert cname.data == ["orders.example"] and cname.code == "NOERROR"


def test_names_that_do_not_exist_and_wildcards():
    records = [record("*.shop.securecart.lab.", ["10.9.9.9"]), record("txt.securecart.lab.", ['"v=1"'], Type="TXT")]
    assert resolver(records).resolve("eu.shop.securecart.lab", "A").data == ["10.9.9.9"]
    assert resolver(records).resolve("nothing.securecart.lab", "A").code == "NXDOMAIN"
    empty = resolver(records).resolve("txt.securecart.lab", "A")
    assert (empty.code, empty.data) == ("NOERROR", [])
    assert resolver(records).resolve("www.example.com", "A").code == "NXDOMAIN"


def test_alias_records_resolve_and_evaluate_their_target():
    records = [*FAILOVER,
               {"Name": "securecart.lab.", "Type": "A", "AliasTarget": {"HostedZoneId": "Z1",
                                                                         "DNSName": "www.securecart.lab.",
                                                                         "EvaluateTargetHealth": True}},
               {"Name": "site.securecart.lab.", "Type": "A", "SetIdentifier": "site", "Failover": "PRIMARY",
                "AliasTarget": {"HostedZoneId": "Z3AQBSTGFYJSTF",
                                "DNSName": "shop-site.s3-website-us-east-1.amazonaws.com.",
                                "EvaluateTargetHealth": True}},
               record("site.securecart.lab.", ["10.1.0.9"], SetIdentifier="backup", Failover="SECONDARY")]
    apex = resolver(records, {"hc-1": (False, "down")}).resolve("securecart.lab", "A")
    assert apex.data == ["10.1.0.1"]
    site = resolver(records, endpoint=lambda name: (False, "404")).resolve("site.securecart.lab", "A")
    assert site.data == ["10.1.0.9"]
    up = resolver(records).resolve("site.securecart.lab", "A")
    assert up.data == ["shop-site.s3-website-us-east-1.amazonaws.com."]
