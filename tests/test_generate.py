"""The generator's contracts: deterministic bytes, staging's column orders, an honest truth file
and the identity traps the resolution stage is judged on."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from waymark.core.identifiers import IDENTIFIER_TYPES, is_junk, normalize
from waymark.generate import GenerateStats, generate
from waymark.generate.contracts import CSV_COLUMNS

STAGING = Path(__file__).parents[1] / "dbt_project/models/staging"


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _events(root: Path) -> Iterator[dict[str, object]]:
    for path in sorted((root / "events").iterdir()):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:  # type: ignore[operator]
            for line in handle:
                yield json.loads(line)


def _rows(root: Path, source: str) -> Iterator[dict[str, str]]:
    for path in sorted((root / source).glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)


Identifier = tuple[str, str]


def _record_identifiers(root: Path) -> Iterator[list[Identifier]]:
    """The identifiers each source record carries together, normalised as staging does."""

    def ids(*items: tuple[str, object, object]) -> list[Identifier]:
        found = []
        for kind, raw, country in items:
            value = normalize(kind, raw if isinstance(raw, str) else None, country)  # type: ignore[arg-type]
            if value is not None:
                found.append((kind, value))
        return found

    for event in _events(root):
        traits = event.get("traits") or {}
        assert isinstance(traits, dict)
        yield ids(
            ("anonymous_id", event.get("anonymousId"), None),
            ("user_id", event.get("userId"), None),
            ("anonymous_id", event.get("previousId"), None),
            ("email", traits.get("email"), None),
            ("phone", traits.get("phone"), traits.get("country")),
        )
    for row in _rows(root, "orders"):
        country = row["shipping_country"]
        yield ids(
            ("user_id", row["account_id"], None),
            ("email", row["email"], None),
            ("phone", row["phone"], country),
        )
    for row in _rows(root, "crm_contacts"):
        yield ids(
            ("crm_contact_id", row["contact_id"], None),
            ("email", row["email"], None),
            ("phone", row["phone"], row["country"]),
        )
    for row in _rows(root, "support_tickets"):
        yield ids(("email", row["email"], None), ("phone", row["phone"], None))
    for row in _rows(root, "support_calls"):
        yield ids(("phone", row["phone"], None))
    for row in _rows(root, "messaging_engagement"):
        yield ids(("email" if row["channel"] == "email" else "phone", row["recipient"], None))
    for row in _rows(root, "consent"):
        yield ids((row["identifier_type"], row["identifier_value"], None))
    for row in _rows(root, "ad_clicks"):
        yield ids(("anonymous_id", row["landing_anonymous_id"], None))


def _source_identifiers(root: Path) -> Counter[Identifier]:
    """Every identifier the sources carry, with how many records carry it."""
    return Counter(i for record in _record_identifiers(root) for i in record)


def _truth(root: Path) -> list[dict[str, str]]:
    with (root / "_truth/identity.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small")
    generate(customers=200, seed=11, out=out)
    return out


@pytest.fixture(scope="module")
def traps_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("traps")
    generate(customers=2000, seed=5, out=out, gzip_events=True)
    return out


def test_same_seed_gives_identical_bytes(small: Path, tmp_path: Path) -> None:
    stats = generate(customers=200, seed=11, out=tmp_path)
    assert isinstance(stats, GenerateStats)
    assert stats.total_rows > 0 and stats.rows_per_second > 0
    assert _digests(tmp_path) == _digests(small)


def test_other_seed_differs(small: Path, tmp_path: Path) -> None:
    generate(customers=200, seed=12, out=tmp_path)
    assert _digests(tmp_path) != _digests(small)


def test_worker_count_keeps_the_same_rows(small: Path, tmp_path: Path) -> None:
    generate(customers=200, seed=11, out=tmp_path, workers=2)
    assert any(p.name.endswith("-1.jsonl") for p in (tmp_path / "events").iterdir())
    key = lambda e: json.dumps(e, sort_keys=True)  # noqa: E731
    assert sorted(map(key, _events(tmp_path))) == sorted(map(key, _events(small)))
    for source in CSV_COLUMNS:
        assert sorted(map(str, _rows(tmp_path, source))) == sorted(map(str, _rows(small, source)))
    for name in ("identity.csv", "people.csv"):
        assert (tmp_path / "_truth" / name).read_bytes() == (small / "_truth" / name).read_bytes()


def test_events_are_compact_json_whichever_encoder(small: Path) -> None:
    """orjson and the stdlib fallback must write the same bytes for the same event."""
    path = sorted((small / "events").iterdir())[60]
    for line in path.read_text(encoding="utf-8").splitlines():
        again = json.dumps(json.loads(line), separators=(",", ":"), ensure_ascii=False)
        assert again == line


def test_csv_headers_match_the_staging_contracts(small: Path) -> None:
    contracts: dict[str, list[str]] = {}
    for path in STAGING.glob("*/__sources.yml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                meta = table.get("meta", {})
                columns = [c["name"] for c in table["columns"]]
                if meta.get("format") == "csv":
                    contracts[meta["folder"]] = columns
                elif meta.get("format") == "jsonl":
                    contracts["events"] = columns
    assert set(contracts) == {*CSV_COLUMNS, "events"}
    for folder, columns in CSV_COLUMNS.items():
        assert list(columns) == contracts[folder], folder
        files = sorted((small / folder).glob(f"{folder}-*-0.csv"))
        assert files, folder
        for path in files:
            with path.open(newline="", encoding="utf-8") as handle:
                assert next(csv.reader(handle)) == contracts[folder], path
    allowed = set(contracts["events"])
    assert all(set(event) <= allowed for event in _events(small))


def test_partitions_follow_row_timestamps(small: Path) -> None:
    for path in (small / "events").iterdir():
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                stamp = json.loads(line)["timestamp"]
                try:
                    instant = datetime.fromisoformat(stamp)
                except ValueError:
                    continue  # a deliberately malformed line
                assert instant.astimezone(UTC).date().isoformat() == path.name[:10], stamp
                assert date(2026, 1, 1) <= instant.date() < date(2026, 6, 30)
    for source, column in (("orders", "updated_at"), ("consent", "recorded_at")):
        for path in (small / source).glob("*.csv"):
            month = path.name[len(source) + 1 : len(source) + 8]
            with path.open(newline="", encoding="utf-8") as handle:
                assert all(r[column][:7] == month for r in csv.DictReader(handle)), path


def test_truth_is_normalised_complete_and_junk_free(small: Path) -> None:
    truth = _truth(small)
    assert truth and list(truth[0]) == ["identifier_type", "identifier_value", "person_id"]
    for row in truth:
        kind, value = row["identifier_type"], row["identifier_value"]
        assert kind in IDENTIFIER_TYPES
        assert normalize(kind, value) == value, row
        assert not is_junk(kind, value), row
    pairs = {(r["identifier_type"], r["identifier_value"]) for r in truth}
    in_sources = {k for k in _source_identifiers(small) if not is_junk(*k)}
    assert in_sources == pairs


def test_traps_are_present(traps_run: Path) -> None:
    truth = _truth(traps_run)
    owners: dict[tuple[str, str], set[str]] = {}
    for row in truth:
        owners.setdefault((row["identifier_type"], row["identifier_value"]), set()).add(
            row["person_id"]
        )
    shared_emails = [k for k, v in owners.items() if k[0] == "email" and len(v) == 2]
    shared_devices = [k for k, v in owners.items() if k[0] == "anonymous_id" and len(v) == 2]
    assert len(shared_emails) >= 5
    assert len(shared_devices) >= 3
    assert max(len(v) for v in owners.values()) == 2
    junk = {k: n for k, n in _source_identifiers(traps_run).items() if is_junk(*k)}
    assert sum(n for (kind, _), n in junk.items() if kind == "email") >= 10
    assert sum(n for (kind, _), n in junk.items() if kind == "phone") >= 10
    assert sum(n for (kind, _), n in junk.items() if kind in ("user_id", "anonymous_id")) >= 10
    assert not set(junk) & set(owners)
    with (traps_run / "_truth/people.csv").open(newline="", encoding="utf-8") as handle:
        people = list(csv.DictReader(handle))
    personas = Counter(p["persona"] for p in people)
    assert {"anonymous", "browser", "lead", "one_time", "repeat", "vip", "lapsing"} <= set(personas)
    assert 0.2 < personas["anonymous"] / len(people) < 0.3


def test_naive_graph_merges_only_the_traps(traps_run: Path) -> None:
    """Linking every record's non-junk identifiers recovers each person, except by design.

    People are split only by anonymous browsing on a second device or a deliberately unlinked
    device, and merged only in the household / shared-device pairs the resolver must keep apart.
    """
    parent: dict[Identifier, Identifier] = {}

    def find(node: Identifier) -> Identifier:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for record in _record_identifiers(traps_run):
        nodes = [i for i in record if not is_junk(*i)]
        for a, b in zip(nodes, nodes[1:], strict=False):
            parent[find(a)] = find(b)
    with (traps_run / "_truth/people.csv").open(newline="", encoding="utf-8") as handle:
        people = {p["person_id"]: p for p in csv.DictReader(handle)}
    components: dict[Identifier, set[str]] = {}
    for row in _truth(traps_run):
        node = (row["identifier_type"], row["identifier_value"])
        components.setdefault(find(node), set()).add(row["person_id"])
    per_person = Counter(p for members in components.values() for p in members)
    for person_id, count in per_person.items():
        if count > 1:
            person = people[person_id]
            assert person["persona"] == "anonymous" or person["unlinked_device"] == "true"
    pairs = [members for members in components.values() if len(members) > 1]
    assert pairs and all(len(members) == 2 for members in pairs)
    for members in pairs:
        first, second = sorted(members)
        assert people[first]["household_id"] or people[first]["shared_device"] == "true"
        assert int(first[1:]) // 2 == int(second[1:]) // 2  # the two members of one pair


def test_malformed_rows_only_when_asked(traps_run: Path, tmp_path: Path) -> None:
    events = list(_events(traps_run))
    assert any(
        e["timestamp"] in ("not a timestamp", "NaN")
        or "/" in str(e["timestamp"])
        or str(e["timestamp"]).startswith("2026-02-31")
        for e in events
    )
    assert any("anonymousId" not in e and "userId" not in e for e in events)
    assert any(r["order_id"] == "" for r in _rows(traps_run, "orders"))
    crm_emails = [r["email"] for r in _rows(traps_run, "crm_contacts")]
    assert any("@" in e and normalize("email", e) is None for e in crm_emails)
    generate(customers=300, seed=5, out=tmp_path, malformed_rate=0)
    assert all("anonymousId" in e and e["timestamp"][:2] == "20" for e in _events(tmp_path))
    orders = list(_rows(tmp_path, "orders"))
    assert all(
        r["order_id"] and (r["account_id"] or normalize("email", r["email"])) for r in orders
    )


def test_volumes_are_realistic(traps_run: Path) -> None:
    events = sum(1 for _ in _events(traps_run))
    orders = {r["order_id"] for r in _rows(traps_run, "orders")}
    assert 12 < events / 2000 < 30
    assert 0.4 < len(orders) / 2000 < 0.9
    assert {r["currency"] for r in _rows(traps_run, "orders")} == {
        "USD",
        "CAD",
        "GBP",
        "EUR",
        "AUD",
    }
