"""The importers, one module per source format, listed once in IMPORTERS."""

from __future__ import annotations

from auditor.importers import (
    anthropic_batch_results_jsonl,
    anthropic_cost_csv,
    anthropic_cost_report_json,
    anthropic_message_jsonl,
    anthropic_usage_csv,
    anthropic_usage_report_json,
    aws_cur2_csv,
    aws_cur_legacy_csv,
    azure_cost_csv,
    bedrock_invocation_jsonl,
    claude_code_jsonl,
    codex_cli_jsonl,
    deepseek_amount_csv,
    deepseek_cost_csv,
    focus_csv,
    gcp_billing_csv,
    helicone_csv,
    langfuse_observations_json,
    litellm_spend_logs_csv,
    litellm_spend_logs_json,
    openai_batch_jsonl,
    openai_cost_csv,
    openai_costs_api_json,
    openai_response_jsonl,
    openai_usage_api_json,
    openai_usage_csv,
    openrouter_activity_csv,
    openrouter_logs_csv,
    workload_csv,
)
from auditor.importers.base import Importer

IMPORTERS: tuple[Importer, ...] = (
    openai_usage_csv.IMPORTER,
    anthropic_usage_csv.IMPORTER,
    anthropic_cost_csv.IMPORTER,
    openrouter_logs_csv.IMPORTER,
    openai_cost_csv.IMPORTER,
    openrouter_activity_csv.IMPORTER,
    litellm_spend_logs_csv.IMPORTER,
    helicone_csv.IMPORTER,
    claude_code_jsonl.IMPORTER,
    codex_cli_jsonl.IMPORTER,
    deepseek_amount_csv.IMPORTER,
    deepseek_cost_csv.IMPORTER,
    workload_csv.IMPORTER,
    openai_batch_jsonl.IMPORTER,
    openai_response_jsonl.IMPORTER,
    anthropic_message_jsonl.IMPORTER,
    anthropic_batch_results_jsonl.IMPORTER,
    azure_cost_csv.IMPORTER,
    gcp_billing_csv.IMPORTER,
    aws_cur_legacy_csv.IMPORTER,
    aws_cur2_csv.IMPORTER,
    bedrock_invocation_jsonl.IMPORTER,
    focus_csv.IMPORTER,
    openai_usage_api_json.IMPORTER,
    openai_costs_api_json.IMPORTER,
    anthropic_usage_report_json.IMPORTER,
    anthropic_cost_report_json.IMPORTER,
    litellm_spend_logs_json.IMPORTER,
    langfuse_observations_json.IMPORTER,
)


def importer_named(name: str) -> Importer | None:
    return next((i for i in IMPORTERS if i.name == name), None)
