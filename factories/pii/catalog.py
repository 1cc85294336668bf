"""The PII catalog: which fields of which entity are personal data, and their kind.

Suppliers are companies (CNPJ, legal name: public registry data), app_user.username
is index-derived (``<mode>.user0000042``), and city/state are coarse geography: none
of them is catalogued. Adding a field here is enough for the masker and checker to
cover it (the kind selects the format).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType


class FieldKind(enum.Enum):
    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    CPF = "cpf"
    BIRTH_DATE = "birth_date"
    STREET = "street"
    ZIP = "zip"


PII_CATALOG: Mapping[str, Mapping[str, FieldKind]] = MappingProxyType(
    {
        "app_user": MappingProxyType({"full_name": FieldKind.NAME, "email": FieldKind.EMAIL}),
        "advisor": MappingProxyType(
            {"full_name": FieldKind.NAME, "email": FieldKind.EMAIL, "phone": FieldKind.PHONE}
        ),
        "customer": MappingProxyType(
            {
                "full_name": FieldKind.NAME,
                "cpf": FieldKind.CPF,
                "email": FieldKind.EMAIL,
                "phone": FieldKind.PHONE,
                "birth_date": FieldKind.BIRTH_DATE,
            }
        ),
        "address": MappingProxyType({"street": FieldKind.STREET, "zip_code": FieldKind.ZIP}),
    }
)
