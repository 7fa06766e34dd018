"""Payouts: monthly statements from meeting outcomes, locked on export, CSV and PDF files."""

from payout.store import adjust, export_month, month_statements

__all__ = ["adjust", "export_month", "month_statements"]
