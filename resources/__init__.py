"""Coauthor's resources (templates, the sample book, icons), installed as ``coauthor.resources``."""
