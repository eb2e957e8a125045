"""The cost figures docs/cost.md and the README print are the model's (`ingest cost`): a change of
price, default or layout that moves them fails here until the documents say the new figures."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from ingest_tools import cost
from ingest_tools.cost import SECONDS_PER_MONTH, CostInputs, estimate

ROOT = Path(__file__).resolve().parents[2]
COST_DOC = (ROOT / "docs" / "cost.md").read_text()
README = (ROOT / "README.md").read_text()

TRAFFIC = {
    "1M events/month": 1e6,
    "10 events/s (26.28M/month)": 10 * SECONDS_PER_MONTH,
    "1,000 events/s (2.628B/month)": 1000 * SECONDS_PER_MONTH,
}


def per_million(**inputs: Any) -> str:
    """The headline figure: `ingest cost --rate 10/s` with ``inputs``."""
    figure = estimate(CostInputs.from_rate(10, **inputs)).usd_per_million_events
    assert figure is not None
    return f"${figure:.2f}"


@pytest.mark.parametrize("traffic", TRAFFIC)
@pytest.mark.parametrize("batch", [1, 100])
def test_the_default_figures_table_is_the_models(traffic: str, batch: int) -> None:
    bill = estimate(CostInputs(events_per_month=TRAFFIC[traffic], batch_size=batch))
    usd = bill.usd
    cells = [
        usd("api_requests"),
        usd("lambda_requests") + usd("lambda_duration"),
        usd("dynamodb_writes"),
        usd("dynamodb_storage") + usd("dynamodb_pitr"),
        usd("logs_ingestion") + usd("access_logs_ingestion") + usd("logs_storage"),
    ]
    row = " | ".join(f"{cell:,.2f}" for cell in cells)
    assert f"| {traffic} | {batch} | {row} | **{bill.variable_usd:,.2f}** |" in COST_DOC


def test_the_1_kib_figures_in_docs_and_readme_are_the_models() -> None:
    single, batched = (
        per_million(event_size_bytes=1024),
        per_million(event_size_bytes=1024, batch_size=100),
    )
    (row,) = re.findall(r"^\| \*\*Per million events\*\* \|.*$", COST_DOC, re.MULTILINE)
    assert row.split("|")[4].strip() == f"**{single[1:]}**"  # single, now
    assert row.split("|")[7].strip() == f"**{batched[1:]}**"  # batch 100, now
    assert f"1 KiB events: **{single}** sent singly, **{batched}** in batches of 100" in README
    small = f"512 B events: {per_million()} and {per_million(batch_size=100)}"
    assert small in README


def test_the_fixed_cost_in_docs_and_readme_is_the_models() -> None:
    idle = estimate(CostInputs(events_per_month=0.0)).fixed_usd
    busy = estimate(CostInputs(events_per_month=1e6)).fixed_usd
    assert f"prints such a month: **${idle:.2f}**" in COST_DOC
    assert f"fixed ${idle:.2f}/month per environment idle" in README
    assert f"${busy:.2f} with traffic" in README


def test_the_fixed_cost_counts_what_the_alarms_module_deploys() -> None:
    """modules/alarms' own test counts the metrics its alarms read in a plan with the defaults."""
    test = (ROOT / "modules" / "alarms" / "tests" / "alarms.tftest.hcl").read_text()
    (counted,) = re.findall(r"length\(q\.metric\) > 0\]\)\]\) == (\d+)", test)
    assert int(counted) == cost.DEPLOYED_ALARM_METRICS
    assert cost.DEPLOYED_DASHBOARDS == 1  # aws_cloudwatch_dashboard.this, asserted beside it
