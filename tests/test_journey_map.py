"""`waymark journeys map`: Mermaid text and a standalone SVG/HTML drawing of a journey, with
counts per step and per transition read from the journey tables."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from datetime import timedelta
from pathlib import Path

from engine_support import T0, EngineBench

from waymark.core.home import PROJECT_ROOT
from waymark.journeys.engine.journey_map import mermaid
from waymark.journeys.engine.journey_svg import write_map
from waymark.journeys.spec import load_journey

H = timedelta(hours=1)
SVG = "{http://www.w3.org/2000/svg}"


def test_mermaid_shows_every_step_transition_and_loop() -> None:
    vip = load_journey(PROJECT_ROOT / "journeys" / "vip_ads.yml")
    text = mermaid(vip)
    assert text.startswith("flowchart TD\n")
    for step in vip.steps:
        assert f"    {step.id}[" in text or f"    {step.id}(" in text
    assert '    still_vip -->|"when[0]"| a_day' in text  # the daily loop
    assert '    still_vip -->|"else"| remove_from_audience' in text
    assert "ads: vip_audience_add" in text and "joins vip_lookalike_seed" in text
    cart = mermaid(load_journey(PROJECT_ROOT / "journeys" / "cart_abandonment.yml"))
    assert '    hold_out -->|"control"| exit__holdout' in cart
    assert "event product_added or checkout_started" in cart


def test_counts_come_from_the_step_log(tmp_path: Path) -> None:
    bench = EngineBench(tmp_path / "bench")
    bench.journey(
        """
        name: mapped
        description: a small journey to count
        entry: {event: product_added}
        instance_key: properties.cart_id
        exit_when: [{event: order_completed}]
        steps:
          - {id: hold, wait: {duration: 1h}}
          - id: mail
            send: {channel: email, destination: email_smtp, template: hello_email,
                   purpose: email_marketing}
          - {id: done, exit: {reason: mailed}}
        """
    )
    bench.customers(["a", "b", "c"])
    for who in ("a", "b", "c"):
        bench.track(who, T0, "Product Added", cart_id=who)
    bench.track("c", T0 + timedelta(minutes=30), "Order Completed", cart_id="c")
    bench.update_customer("b", email_marketing_consent="denied")
    bench.tick(T0 + 2 * H)
    journey = next(j for j in bench.project().journeys if j.name == "mapped")
    bench.close()
    files, text = write_map(journey, tmp_path / "out", bench.path)
    assert sorted(path.name for path in files) == ["mapped.html", "mapped.mmd", "mapped.svg"]
    assert "entered 3" in text
    assert "mail<br/>email: hello_email<br/>arrived 2 · sent 1 · suppressed 1" in text
    assert '    hold -.->|"1"| exit__exit_event_order_completed' in text
    assert '    mail -->|"2"| done' in text
    tree = ElementTree.parse(tmp_path / "out" / "mapped.svg")
    texts = " ".join(node.text or "" for node in tree.iter(f"{SVG}text"))
    for step in ("hold", "mail", "done", "arrived 2", "sent 1"):
        assert step in texts
    assert len(list(tree.iter(f"{SVG}rect"))) == 5  # entry, three steps, one exit reason
    html = (tmp_path / "out" / "mapped.html").read_text()
    assert "<svg" in html and "flowchart TD" in html and "as of the latest tick" in html


def test_the_command_prints_mermaid_and_writes_files(tmp_path: Path) -> None:
    command = [
        sys.executable, "-m", "waymark.cli", "journeys", "map", "post_purchase_survey",
        "--no-counts", "--output", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("flowchart TD")
    assert '    detractor_reply -->|"on_event"| senior_agent_task' in done.stdout
    assert (tmp_path / "post_purchase_survey.svg").is_file()
    missing = subprocess.run(
        [*command[:5], "nope"], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300
    )
    assert missing.returncode == 1 and "no journey named 'nope'" in missing.stderr
