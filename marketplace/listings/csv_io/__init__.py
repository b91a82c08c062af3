"""CSV export and import of a shop's catalog, one row per variant.

Modules: ``columns`` (the file's columns), ``export``, ``parse`` (read and check every
row), ``apply`` (write the checked rows), ``jobs`` (the background import).

Import rules, as the seller reads them on the import page:
- Rows are matched by SKU: a known SKU updates that variant (and its listing), a new SKU
  creates a variant. The ``listing`` column groups rows: the number of an existing listing,
  or any word (``new-shirt``) shared by the rows of a new listing; empty = a listing of its own.
- Every row is checked before anything is saved. Errors are reported by row (as numbered in
  a spreadsheet, the header being row 1) and column. With "all or nothing" one error means
  nothing is saved; with "valid rows only" the rows with errors are skipped.
- A column left out of the file keeps the current values; an empty cell clears the value.

The import runs in a Celery task with progress stored on the ``ImportJob`` row: rows are
checked in committed chunks (so the page can show how far it got), then everything is
applied in one transaction (so it is all or nothing).
"""
