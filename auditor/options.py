"""AuditOptions: everything a run needs, built by the command line or the wizard and nothing else."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from auditor.importers.reader import DEFAULT_LIMITS, MIB, InputLimits
from auditor.ingest import DEFAULT_BLOCK_BYTES
from auditor.scan import ReadBlocks, read_blocks


class AuditOptions(BaseModel):
    """The inputs and choices of one audit run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inputs: tuple[Path, ...] = Field(description="files and directories to audit")
    format: str | None = Field(default=None, description="force this importer for every file")
    as_of: date = Field(description="date at which candidates (and the scenario baseline) are priced")
    candidates: tuple[str, ...] = Field(default=(), description="`provider:model` ids; empty = the default set")
    map_file: Path | None = Field(default=None, description="mapping file describing an in-house format")
    fx: tuple[str, ...] = Field(default=(), description="exchange rates `CUR=USD_PER_UNIT` or `CUR@YYYY-MM=…`")
    rates_file: Path | None = Field(default=None, description="TOML file of exchange rates ([[rate]] tables)")
    batch_dates: tuple[str, ...] = Field(
        default=(),
        description="day of results files whose lines carry no time: `YYYY-MM-DD` (all), `FILE=YYYY-MM-DD` (one)",
    )
    timezone: str = Field(
        default="UTC", description="IANA time zone the report's days and months are grouped in (timestamps stay UTC)"
    )
    block_bytes: int = Field(
        default=DEFAULT_BLOCK_BYTES,
        description="bytes DuckDB reads per block of a plain CSV file (results never depend on it)",
    )
    contract_file: Path | None = Field(
        default=None, description="contract file (TOML, CSV or XLSX) of negotiated prices: discounts, custom prices"
    )
    assume: tuple[str, ...] = Field(
        default=(), description="migration assumptions `NAME=VALUE`, or `neutral` for all unchanged"
    )
    data_classes: tuple[str, ...] = Field(
        default=(), description="data classes in the traffic (`--data`), e.g. phi, eu-personal; empty = not given"
    )
    allow_jurisdictions: tuple[str, ...] = Field(default=(), description="jurisdictions allowed; empty = all")
    ban_providers: tuple[str, ...] = Field(default=(), description="providers no traffic may move to")
    quality_file: Path | None = Field(
        default=None, description="CSV of the user's evaluation results: model, segment (or task), score"
    )
    sectors: tuple[str, ...] = Field(
        default=(), description="sector overlays (`--sector`): eu-financial, us-bank, education, tax"
    )
    policy_file: Path | None = Field(
        default=None, description="policy file (TOML): data classes, sectors, jurisdictions, providers, segments"
    )
    max_decompressed_bytes: int = Field(
        default=DEFAULT_LIMITS.max_decompressed_bytes,
        ge=1,
        description="bytes the run's archive members, and each gzip file, may inflate to (a bomb is refused)",
    )
    max_compression_ratio: int = Field(
        default=DEFAULT_LIMITS.max_compression_ratio,
        ge=1,
        description="times its compressed size an archive member or gzip file may inflate to, past 1 MiB",
    )
    max_field_bytes: int = Field(
        default=DEFAULT_LIMITS.max_field_bytes,
        ge=MIB,
        description="longest line of a delimited file (a row's fields together); a longer one refuses the file",
    )

    @model_validator(mode="before")
    @classmethod
    def _buffer_holds_longest_line(cls, data: object) -> object:
        """The CSV reader's buffer holds two of the longest lines allowed (a longer line may be dropped)."""
        if isinstance(data, dict) and "max_field_bytes" in data:
            block = data.get("block_bytes", DEFAULT_BLOCK_BYTES)
            data = {**data, "block_bytes": max(int(block), 2 * int(data["max_field_bytes"]))}
        return data

    @property
    def read_blocks(self) -> ReadBlocks:
        return read_blocks(self.block_bytes, self.max_field_bytes)

    @property
    def limits(self) -> InputLimits:
        return InputLimits(self.max_decompressed_bytes, self.max_compression_ratio, self.max_field_bytes)
