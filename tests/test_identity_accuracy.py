"""Identity resolution scored against the generator's ground truth.

Pairwise precision and recall over identifiers that belong to exactly one person (a shared
household email or a shared device has no single right answer, so it is left out of the score).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

PAIRWISE_SCORE_SQL = """
with predicted as (
    select identifier_type, identifier_value, {customer_column} as customer_id
    from {predicted_relation}
),
truth as (
    select distinct identifier_type, identifier_value, person_id
    from read_csv(?, header=true, all_varchar=true)
),
single_owner as (
    select identifier_type, identifier_value, min(person_id) as person_id
    from truth
    group by 1, 2
    having count(distinct person_id) = 1
),
joined as (
    select single_owner.*, predicted.customer_id
    from single_owner
    left join predicted using (identifier_type, identifier_value)
),
true_pairs as (
    select sum(n * (n - 1) / 2) as pairs
    from (select person_id, count(*) as n from joined group by 1)
),
predicted_pairs as (
    select sum(n * (n - 1) / 2) as pairs
    from (select customer_id, count(*) as n from joined where customer_id is not null group by 1)
),
correct_pairs as (
    select sum(n * (n - 1) / 2) as pairs
    from (
        select person_id, customer_id, count(*) as n
        from joined where customer_id is not null group by 1, 2
    )
)
select
    (select pairs from correct_pairs) / (select pairs from predicted_pairs) as precision,
    (select pairs from correct_pairs) / (select pairs from true_pairs) as recall,
    (select count(*) from joined) as identifiers,
    (select count(*) from joined where customer_id is null) as unresolved
"""


CUSTOMERS = ("customer_id", "wh.marts.customer_identifiers")
# Connected components before merge limits: everything the evidence links, right or wrong.
# Its recall is the most any resolver can reach on this data.
UNRESTRICTED_COMPONENTS = (
    "component_key",
    "wh.intermediate.int_identity__nodes join wh.intermediate.int_identity__components "
    "using (node_key)",
)


def pairwise_scores(
    warehouse: Path, truth_csv: Path, clustering: tuple[str, str] = CUSTOMERS
) -> tuple[float, float, int, int]:
    customer_column, relation = clustering
    sql = PAIRWISE_SCORE_SQL.format(customer_column=customer_column, predicted_relation=relation)
    with duckdb.connect() as con:
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        precision, recall, identifiers, unresolved = con.execute(sql, [str(truth_csv)]).fetchone()
    return float(precision), float(recall), int(identifiers), int(unresolved)


@pytest.mark.slow
def test_identity_resolution_matches_ground_truth(
    generated_warehouse: Path, generated_data: Path
) -> None:
    truth = generated_data / "_truth" / "identity.csv"
    precision, recall, identifiers, unresolved = pairwise_scores(generated_warehouse, truth)
    naive_precision, ceiling, _, _ = pairwise_scores(
        generated_warehouse, truth, UNRESTRICTED_COMPONENTS
    )
    print(
        f"\nidentity resolution: pairwise precision {precision:.4f}, recall {recall:.4f} "
        f"over {identifiers} single-owner identifiers ({unresolved} never resolved); "
        f"without merge limits: precision {naive_precision:.4f}, recall {ceiling:.4f} (ceiling)"
    )
    assert precision >= 0.995
    assert recall >= 0.99


def test_scoring_detects_a_wrong_merge(tmp_path: Path) -> None:
    """The score is not a constant: merging two people lowers precision, splitting lowers recall."""
    truth = tmp_path / "identity.csv"
    truth.write_text(
        "identifier_type,identifier_value,person_id\n"
        "email,a@x.io,p1\nuser_id,u1,p1\nemail,b@x.io,p2\nuser_id,u2,p2\n"
    )
    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.customer_identifiers as select * from (values "
            "('email','a@x.io','c1'), ('user_id','u1','c1'), ('email','b@x.io','c1'), "
            "('user_id','u2','c2')) t(identifier_type, identifier_value, customer_id)"
        )
    precision, recall, _, _ = pairwise_scores(warehouse, truth)
    assert precision == pytest.approx(1 / 3)
    assert recall == pytest.approx(1 / 2)
