"""Erasure requests in the journey engine and at the door: the engine renders nothing for a
covered customer (in ticks and in simulations), and a request for a customer id nobody knows
is refused rather than recorded as done."""

from __future__ import annotations

from datetime import timedelta

from activations.erasure import record_request
from activations.tables import ensure_tables
from activations.testing import SAMPLE_AS_OF, SampleWarehouse, write_project
from tests.engine_support import T0, EngineBench
from waymark.cli.main import main
from waymark.core.erasure import ERASURE_REASON as ERASURE
from waymark.core.instants import format_instant
from waymark.journeys.engine.simulate import simulate


def test_the_journey_engine_renders_nothing_for_an_erased_customer(tmp_path) -> None:
    bench = EngineBench(tmp_path / "bench")
    bench.journey(
        """
        name: hello
        description: a note per ticket
        entry: {event: ticket_opened}
        instance_key: properties.ticket_id
        steps:
          - {id: mail, send: {channel: email, destination: email_smtp, template: hello_email,
              purpose: transactional}}
        """
    )
    bench.customer("ann", phone="+15550000001")
    bench.customer("bob", phone="+15550000002")
    ensure_tables(bench.con)
    record_request(bench.con, customer_id="ann", requested_at=T0, received_at=T0)
    for customer_id in ("ann", "bob"):
        bench.event(customer_id, T0, "ticket_opened", "x", ticket_id=customer_id)
    bench.tick(T0 + timedelta(minutes=5))
    assert [row["customer_id"] for row in bench.outbox()] == ["bob"]
    assert ("mail", "suppressed", ERASURE) in bench.log("ann")
    report = bench.project()
    bench.close()
    # A simulation reads the requests from the warehouse it attaches.
    [journey] = report.journeys
    result = simulate(bench.path, journey, report.project, T0, T0 + timedelta(hours=1))
    assert [send["customer_id"] for send in result.would_send] == ["bob"]
    assert result.steps[0].suppressed == {ERASURE: 1}


def test_forget_an_unknown_customer_id_fails_naming_it(tmp_path, capsys) -> None:
    warehouse = SampleWarehouse(tmp_path / "warehouse.duckdb")
    warehouse.customer("ann")
    # cus_old was merged into ann by an earlier build.
    warehouse.execute(
        "create table marts.customer_id_history (identifier_type varchar, identifier_value "
        "varchar, customer_id varchar, previous_customer_id varchar, change_type varchar); "
        "insert into marts.customer_id_history values "
        "('email', 'old@example.org', 'cus_old', null, 'assigned'), "
        "('email', 'old@example.org', 'ann', 'cus_old', 'merged')"
    )
    paths = write_project(tmp_path / "project", {}, {}, {})
    common = ["--warehouse", str(warehouse.path), "--syncs", str(paths.syncs)]

    assert (
        main(["forget", "--customer", "cus_typo", *common, "--as-of", format_instant(SAMPLE_AS_OF)])
        == 1
    )
    printed = capsys.readouterr()
    assert printed.out == "" and printed.err.splitlines() == [
        "waymark forget: customer id 'cus_typo' is unknown: it is not in marts.customers or "
        "marts.customer_id_history; check the id, or give an email or phone to match the person"
    ]
    assert warehouse.execute("select count(*) from activations.deletion_requests") == [(0,)]
    # A value that is not a time is a wrong command line (exit 2), named by its option.
    assert main(["forget", "--customer", "ann", "--requested-at", "yesterday", *common]) == 2
    assert capsys.readouterr().err == (
        "waymark forget: argument --requested-at: 'yesterday' is not an ISO 8601 date or time "
        "such as 2026-06-30, 2026-06-30T09:00:00Z or '2026-06-30 09:00:00+02:00'\n"
    )

    # An id merged away is still known; its identifiers lead to whoever holds them now.
    assert (
        main(["forget", "--customer", "cus_old", *common, "--as-of", format_instant(SAMPLE_AS_OF)])
        == 0
    )
    assert "(ann, cus_old): processed" in capsys.readouterr().out
    # An unknown id given with an address is matched by the address.
    argv = ["forget", "--customer", "cus_typo", "--email", "ann@example.org", *common]
    assert main([*argv, "--as-of", format_instant(SAMPLE_AS_OF)]) == 0
    assert "(ann, cus_typo): processed" in capsys.readouterr().out
