"""Renderers that turn one AuditResult into documents: a PDF report and an XLSX workbook."""
