"""The importers, one module per source format, listed once in IMPORTERS."""

from __future__ import annotations

from auditor.importers import anthropic_cost_csv, anthropic_usage_csv, openai_usage_csv, openrouter_logs_csv
from auditor.importers.base import Importer

IMPORTERS: tuple[Importer, ...] = (
    openai_usage_csv.IMPORTER,
    anthropic_usage_csv.IMPORTER,
    anthropic_cost_csv.IMPORTER,
    openrouter_logs_csv.IMPORTER,
)


def importer_named(name: str) -> Importer | None:
    return next((i for i in IMPORTERS if i.name == name), None)
