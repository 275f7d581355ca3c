"""The operations both front ends run, each written once.

``coauthor.cli`` calls them directly; the app (``coauthor.ui``) runs the slow ones in worker
jobs. ``projects`` opens and creates projects and imports into them (with the backup first),
``export`` screens, checks and writes an export, ``review`` is the terminal review, ``sample``
builds the first-run sample book and ``terminal`` makes a book's text safe to print.
"""
