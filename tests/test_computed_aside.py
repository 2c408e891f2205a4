"""Computing a stage's value in a child process while this one goes on: the same value, errors raised here."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

import auditor.report.aside
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.report.aside import computed_aside
from tests.conftest import FORKS, no_children_left

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def test_the_value_is_computed_in_a_child_where_it_can_fork() -> None:
    with computed_aside(lambda: {"pid": os.getpid(), "sum": sum(range(1000))}) as collect:
        value = collect()
    assert value["sum"] == 499500
    assert (value["pid"] != os.getpid()) == FORKS
    assert no_children_left()


def test_where_it_cannot_fork_the_value_is_computed_here_when_collected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auditor.report.aside, "_can_fork", lambda: False)
    calls: list[int] = []

    def work() -> str:
        calls.append(os.getpid())
        return "done"

    with computed_aside(work) as collect:
        assert calls == []
        assert collect() == "done"
    assert calls == [os.getpid()]


def test_a_failing_child_is_computed_again_here() -> None:
    parent = os.getpid()

    def fails_in_a_child() -> str:
        if os.getpid() != parent:
            raise RuntimeError("child")
        return "computed here"

    with computed_aside(fails_in_a_child) as collect:
        assert collect() == "computed here"
    assert no_children_left()


def test_an_error_of_the_work_is_raised_here() -> None:
    def fails() -> str:
        raise ValueError("no rate for the model")

    with pytest.raises(ValueError, match="no rate for the model"), computed_aside(fails) as collect:
        collect()
    assert no_children_left()


def test_a_value_not_collected_is_ended_with_the_block() -> None:
    with pytest.raises(KeyError), computed_aside(lambda: b"x" * 1_000_000):
        raise KeyError("the re-pricing failed")
    assert no_children_left()


@pytest.mark.skipif(not FORKS, reason="a child is forked on multi-core Linux only")
@pytest.mark.parametrize("inputs", [("samples",), ("openrouter_logs_csv", "deepseek_cost_csv")])
def test_the_sections_computed_aside_are_the_ones_computed_here(
    inputs: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reconciliation, the findings, the usage by project and by key, the cost model and the price overlays'
    notes are the same whether a child computes them during the re-pricing or this process does."""
    paths = tuple(SAMPLES.parent / i if i == "samples" else SAMPLES / i for i in inputs)
    options = AuditOptions(inputs=paths, as_of=date(2026, 11, 27))
    forks: list[int] = []
    forked = auditor.report.aside._forked

    def counted() -> int:
        pid = forked()
        forks.append(pid)
        return pid

    monkeypatch.setattr(auditor.report.aside, "_forked", counted)
    aside = run_audit(options)
    assert len(forks) == 1, "the sections were computed in a child"
    monkeypatch.setattr(auditor.report.aside, "_can_fork", lambda: False)
    here = run_audit(options)
    assert len(forks) == 1
    assert aside.model_dump_json() == here.model_dump_json()
    assert aside.reconciliation and aside.usage_by_project and aside.cost_model
    assert bool(aside.findings) == ("samples" in inputs)
    assert any(n.startswith("Price overlay") for n in aside.notes)
    assert no_children_left()
