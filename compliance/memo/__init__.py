"""Fiduciary memos: the review of one plan as a PDF (or HTML) an investment committee can file.

`context` turns a Report into plain data, `html` renders it with Jinja2 (autoescaped), and `pdf` lays it out
with WeasyPrint. WeasyPrint and Jinja2 are imported only here, so `compliance check` never loads them.
"""
