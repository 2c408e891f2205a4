"""AWS legacy Cost and Usage Report CSV (`identity/LineItemId,…,lineItem/UsageType,…,lineItem/UnblendedCost,…`).

The same lines and semantics as CUR 2.0 (`aws_cur2_csv`, which holds the shared mapping): only Amazon
Bedrock lines are AI usage, usage amounts in `pricing/unit` become tokens, `lineItem/UnblendedCost` is
billed. The legacy header is dynamic (hundreds of `product/*` and `resourceTags/*` columns); only the
columns below are read. Its Athena/Parquet flavour lowercases names to the CUR 2.0 ones and reads as that.
"""

from __future__ import annotations

from auditor.importers.aws_cur2_csv import CurColumns, cur_importer

_UNUSED = (
    "identity/LineItemId", "identity/TimeInterval", "bill/InvoiceId", "bill/InvoicingEntity",
    "bill/BillingEntity", "bill/BillType", "bill/PayerAccountId", "bill/BillingPeriodStartDate",
    "bill/BillingPeriodEndDate", "lineItem/Operation", "lineItem/AvailabilityZone", "lineItem/ResourceId",
    "lineItem/NormalizationFactor", "lineItem/NormalizedUsageAmount", "lineItem/UnblendedRate",
    "lineItem/BlendedRate", "lineItem/BlendedCost", "lineItem/TaxType", "lineItem/LegalEntity",
    "pricing/publicOnDemandCost", "pricing/publicOnDemandRate", "pricing/term",
)  # fmt: skip

IMPORTER = cur_importer(
    name="aws_cur_legacy_csv",
    title="AWS legacy Cost and Usage Report CSV (identity/LineItemId,…,lineItem/UsageType,…)",
    cols=CurColumns(
        line_item_type="lineItem/LineItemType",
        product_code="lineItem/ProductCode",
        usage_type="lineItem/UsageType",
        usage_start="lineItem/UsageStartDate",
        usage_amount="lineItem/UsageAmount",
        currency="lineItem/CurrencyCode",
        unblended_cost="lineItem/UnblendedCost",
        usage_end="lineItem/UsageEndDate",
        service_code="product/servicecode",
        pricing_unit="pricing/unit",
        description="lineItem/LineItemDescription",
        product_name="product/ProductName",
        account_id="lineItem/UsageAccountId",
    ),
    unused=_UNUSED,
    example_header=(
        "identity/LineItemId,identity/TimeInterval,bill/InvoiceId,bill/InvoicingEntity,bill/BillingEntity,"
        "bill/BillType,bill/PayerAccountId,bill/BillingPeriodStartDate,bill/BillingPeriodEndDate,"
        "lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,"
        "lineItem/ProductCode,lineItem/UsageType,lineItem/Operation,lineItem/AvailabilityZone,"
        "lineItem/ResourceId,lineItem/UsageAmount,lineItem/NormalizationFactor,lineItem/NormalizedUsageAmount,"
        "lineItem/CurrencyCode,lineItem/UnblendedRate,lineItem/UnblendedCost,lineItem/BlendedRate,"
        "lineItem/BlendedCost,lineItem/LineItemDescription,lineItem/TaxType,lineItem/LegalEntity,"
        "product/ProductName,…,pricing/publicOnDemandCost,pricing/publicOnDemandRate,pricing/term,pricing/unit"
    ),
)
