"""The cost model's order (price rows P001…, lines) is the data's, not the order rates were first looked up in: the
internal rate ids follow that order, and earlier work in the same process (the wizard detects every file before it
runs the audit) can change it. A run whose rate book already priced the same keys in reverse gives the same JSON."""

from __future__ import annotations

import pytest

import auditor.pipeline
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.report.json_out import render_json
from auditor.workload import Pricebook
from pricing.catalog import lookup_candidate
from tests.conftest import AS_OF, SAMPLES

# Time-of-day-priced (DeepSeek) and long-context-tiered models, and models priced on days with different prices.
INPUTS = tuple(SAMPLES / d for d in ("openrouter_logs_csv", "anthropic_usage_csv", "deepseek_amount_csv"))


def test_the_cost_model_does_not_depend_on_the_order_rates_were_looked_up_in(monkeypatch: pytest.MonkeyPatch) -> None:
    books: list[Pricebook] = []

    def recorded() -> Pricebook:
        books.append(Pricebook())
        return books[-1]

    monkeypatch.setattr(auditor.pipeline, "Pricebook", recorded)
    options = AuditOptions(inputs=INPUTS, as_of=AS_OF)
    first = render_json(run_audit(options))
    seen = books[0]
    keys = list(seen.rates._id_of_key)

    def seeded() -> Pricebook:
        book = Pricebook()
        for ref, day, slot, tier, floor in reversed(keys):
            model = seen.models.get(ref) or lookup_candidate(ref)  # a candidate's is not among the models met
            book.rates._id_for(model, day, slot, tier, floor)
        books.append(book)
        return book

    monkeypatch.setattr(auditor.pipeline, "Pricebook", seeded)
    second = render_json(run_audit(options))
    # The seeding did number the rates otherwise, for a model priced at more than one rate.
    assert books[1].rates.rates != seen.rates.rates
    assert second == first
