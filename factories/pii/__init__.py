"""PII catalog, masker and checker (see ``formats`` for each field's forgery odds)."""

from factories.pii.catalog import PII_CATALOG, FieldKind
from factories.pii.masker import Masker, PiiChecker, is_masked

__all__ = ["PII_CATALOG", "FieldKind", "Masker", "PiiChecker", "is_masked"]
